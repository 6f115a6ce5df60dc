// @vitest-environment jsdom
import { act, render, screen } from '@testing-library/react';
import { describe, expect, it, vi } from 'vitest';
import { Countdown } from '../src/components/Countdown.tsx';
import './setup.tsx'; // cleanup between tests

const NOW = new Date('2025-11-21T12:00:00.000Z').getTime();

function renderCountdown(secondsLeft: number) {
  vi.useFakeTimers();
  vi.setSystemTime(NOW);
  const onExpire = vi.fn();
  render(<Countdown expiresAt={new Date(NOW + secondsLeft * 1000).toISOString()} onExpire={onExpire} />);
  const timer = () => screen.getByRole('timer').textContent;
  // A second at a time, each in its own act(), as a browser would render between ticks.
  const advance = (ms: number) => {
    for (let left = ms; left > 0; left -= 1000) {
      act(() => {
        vi.advanceTimersByTime(Math.min(left, 1000));
      });
    }
  };
  return { onExpire, timer, advance };
}

describe('countdown', () => {
  it('counts down every second and shows Expired at zero, telling its owner once', () => {
    const { onExpire, timer, advance } = renderCountdown(3);
    expect(timer()).toBe('0:03');
    advance(1000);
    expect(timer()).toBe('0:02');
    advance(999);
    expect(timer()).toBe('0:02'); // not a second early
    advance(1);
    expect(timer()).toBe('0:01');
    expect(onExpire).not.toHaveBeenCalled();
    advance(1000);
    expect(timer()).toBe('Expired');
    expect(onExpire).toHaveBeenCalledTimes(1);
    advance(5000);
    expect(timer()).toBe('Expired');
    expect(onExpire).toHaveBeenCalledTimes(1);
  });

  it('shows minutes and seconds, and hours when there are', () => {
    const { timer, advance } = renderCountdown(15 * 60);
    expect(timer()).toBe('15:00');
    advance(1000);
    expect(timer()).toBe('14:59');
    advance(60_000);
    expect(timer()).toBe('13:59');
    render(<Countdown expiresAt={new Date(Date.now() + 3_723_000).toISOString()} />);
    expect(screen.getAllByRole('timer')[1]!.textContent).toBe('1:02:03');
  });

  it('catches up after the tab slept instead of drifting', () => {
    const { timer, advance } = renderCountdown(10);
    vi.setSystemTime(NOW + 7_000); // the clock moved on while no timer ran
    advance(1000);
    expect(timer()).toBe('0:02');
  });

  it('is expired at once for a deadline in the past', () => {
    const { onExpire, timer } = renderCountdown(-30);
    expect(timer()).toBe('Expired');
    expect(onExpire).toHaveBeenCalledTimes(1);
  });
});
