/**
 * A live countdown to `expiresAt`: "14:59", then "Expired" (and `onExpire`, once) at zero. It
 * ticks when the displayed second changes, computed from the clock each time, so a throttled
 * background tab catches up instead of drifting.
 */
import { useEffect, useRef, useState } from 'react';
import { formatDuration } from '../format.ts';

interface CountdownProps {
  expiresAt: string;
  onExpire?: () => void;
}

export function Countdown({ expiresAt, onExpire }: CountdownProps) {
  const deadline = Date.parse(expiresAt);
  const [now, setNow] = useState(() => Date.now());
  const left = deadline - now;
  const expired = left <= 0;

  useEffect(() => {
    if (expired) return;
    // Until the shown whole second changes (ceil: "0:01" lasts until the very end).
    const timer = setTimeout(() => setNow(Date.now()), ((left - 1) % 1000) + 1);
    return () => clearTimeout(timer);
  }, [left, expired]);

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
      {expired ? 'Expired' : formatDuration(left)}
    </span>
  );
}
