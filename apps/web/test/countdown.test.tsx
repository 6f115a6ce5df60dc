// @vitest-environment jsdom
import { act, render, screen } from '@testing-library/react';
import { describe, expect, it, vi } from 'vitest';
import { Announcer } from '../src/a11y.tsx';
import { Countdown } from '../src/components/Countdown.tsx';
import './setup.tsx'; // cleanup between tests

const NOW = new Date('2025-11-21T12:00:00.000Z').getTime();

function renderCountdown(secondsLeft: number) {
  vi.useFakeTimers();
  vi.setSystemTime(NOW);
  const onExpire = vi.fn();
  render(
    <Announcer>
      <Countdown expiresAt={new Date(NOW + secondsLeft * 1000).toISOString()} onExpire={onExpire} />
    </Announcer>,
  );
  const timer = () => screen.getByRole('timer').textContent;
  // A second at a time, each in its own act(), as a browser would render between ticks.
  const advance = (ms: number) => {
    for (let left = ms; left > 0; left -= 1000) {
      act(() => {
        vi.advanceTimersByTime(Math.min(left, 1000));
      });
    }
  };
  // What the page's live region says (it fills a moment after it is asked to).
  const said = () => screen.getByTestId('announce-polite').textContent;
  return { onExpire, timer, advance, said };
}

describe('countdown', () => {
  it('counts down every second and shows Expired at zero, telling its owner once', () => {
    const { onExpire, timer, advance } = renderCountdown(3);
    expect(timer()).toBe('3 s left to pay');
    advance(1000);
    expect(timer()).toBe('2 s left to pay');
    advance(999);
    expect(timer()).toBe('2 s left to pay'); // not a second early
    advance(1);
    expect(timer()).toBe('1 s left to pay');
    expect(onExpire).not.toHaveBeenCalled();
    advance(1000);
    expect(timer()).toBe('Expired');
    expect(onExpire).toHaveBeenCalledTimes(1);
    advance(5000);
    expect(timer()).toBe('Expired');
    expect(onExpire).toHaveBeenCalledTimes(1);
  });

  it('says when 5 minutes and then 1 minute are left, once each, and not every second', () => {
    const { timer, advance, said } = renderCountdown(5 * 60 + 2);
    advance(1000);
    expect(said()).toBe('');
    advance(1000);
    expect(timer()).toBe('5 min 0 s left to pay');
    advance(1000);
    expect(said()).toBe('5 minutes left to pay before your reservation runs out.');
    advance(3 * 60_000);
    expect(said()).toBe('5 minutes left to pay before your reservation runs out.');
    advance(60_000);
    expect(timer()).toBe('59 s left to pay');
    expect(said()).toBe('1 minute left to pay before your reservation runs out.');
  });

  it('does not warn of a moment already past when the page opened', () => {
    const { advance, said } = renderCountdown(50);
    advance(10_000);
    expect(said()).toBe('');
  });

  it('shows minutes and seconds, and hours when there are', () => {
    const { timer, advance } = renderCountdown(15 * 60);
    expect(timer()).toBe('15 min 0 s left to pay');
    advance(1000);
    expect(timer()).toBe('14 min 59 s left to pay');
    advance(60_000);
    expect(timer()).toBe('13 min 59 s left to pay');
    render(<Countdown expiresAt={new Date(Date.now() + 3_723_000).toISOString()} />);
    expect(screen.getAllByRole('timer')[1]!.textContent).toBe('1 h 2 min 3 s left to pay');
  });

  it('catches up after the tab slept instead of drifting', () => {
    const { timer, advance } = renderCountdown(10);
    vi.setSystemTime(NOW + 7_000); // the clock moved on while no timer ran
    advance(1000);
    expect(timer()).toBe('2 s left to pay');
  });

  it('is expired at once for a deadline in the past', () => {
    const { onExpire, timer } = renderCountdown(-30);
    expect(timer()).toBe('Expired');
    expect(onExpire).toHaveBeenCalledTimes(1);
  });
});
