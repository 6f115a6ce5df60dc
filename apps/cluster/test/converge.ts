/** What both fault suites ask of the consistency checker once a fault is over. */
import { expect } from 'vitest';
import { waitForConsistency, type CheckReport, type CheckTargets } from '../src/check-consistency.ts';

/**
 * Waits (two minutes at most) until the checker finds no difference, and fails with the first
 * differences and dead letters it printed when it does not. Dead letters fail it too, unless
 * `deadLetters: 'allowed'` (a test that sends poison on purpose checks its own).
 */
export async function expectConverged(
  targets: CheckTargets,
  { deadLetters = 'none' }: { deadLetters?: 'none' | 'allowed' } = {},
): Promise<CheckReport> {
  const report = await waitForConsistency(targets, 120_000);
  if (report.differences.length > 0) {
    const letters = report.deadLetters.map(
      (d) => `dead letter in ${d.database} (${d.consumer}, ${d.type}): ${d.reason}`,
    );
    console.error([...report.differences.slice(0, 30), ...letters.slice(0, 30)].join('\n'));
  }
  expect(report.differences).toEqual([]);
  if (deadLetters === 'none') expect(report.deadLetters).toEqual([]);
  return report;
}
