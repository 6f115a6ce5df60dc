/**
 * A live countdown to `expiresAt`, with its units: "14 min 59 s left to pay", then "Expired" (and
 * `onExpire`, once) at zero. It ticks when the displayed second changes, computed from the clock
 * each time, so a throttled background tab catches up instead of drifting.
 *
 * A timer is not a live region (a screen reader would read every second): it is read when someone
 * gets to it, and the page's live region says when 5 minutes and then 1 minute are left, the
 * moments a buyer may want to hurry; those already past when the page opened are not said.
 */
import { useEffect, useRef, useState } from 'react';
import { useAnnounce } from '../a11y.tsx';
import { formatDuration } from '../format.ts';

interface CountdownProps {
  expiresAt: string;
  onExpire?: () => void;
}

/** Minutes left at which the countdown speaks up. */
const WARNINGS = [5, 1];

export function Countdown({ expiresAt, onExpire }: CountdownProps) {
  const deadline = Date.parse(expiresAt);
  const [now, setNow] = useState(() => Date.now());
  const left = deadline - now;
  const expired = left <= 0;
  const announce = useAnnounce();

  useEffect(() => {
    if (expired) return;
    // Until the shown whole second changes (ceil: "1 s" lasts until the very end).
    const timer = setTimeout(() => setNow(Date.now()), ((left - 1) % 1000) + 1);
    return () => clearTimeout(timer);
  }, [left, expired]);

  // The warnings still ahead when the page opened, each said once as its moment passes.
  const pending = useRef(WARNINGS.filter((minutes) => left > minutes * 60_000));
  useEffect(() => {
    const due = pending.current.filter((minutes) => !expired && left <= minutes * 60_000);
    if (due.length === 0) return;
    pending.current = pending.current.filter((minutes) => !due.includes(minutes));
    const minutes = Math.min(...due);
    announce(
      `${minutes === 1 ? '1 minute' : `${minutes} minutes`} left to pay before your reservation runs out.`,
    );
  }, [left, expired, announce]);

  const onExpireRef = useRef(onExpire);
  useEffect(() => {
    onExpireRef.current = onExpire;
  });
  useEffect(() => {
    if (expired) onExpireRef.current?.();
  }, [expired]);

  return (
    <span
      role="timer"
      className={`countdown${expired ? ' countdown-expired' : left < 60_000 ? ' countdown-urgent' : ''}`}
    >
      {expired ? 'Expired' : `${formatDuration(left)} left to pay`}
    </span>
  );
}
