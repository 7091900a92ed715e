/** bench/bench.ts rewrites docs/PERFORMANCE.md; the hub section, which bench/hubMemory.ts measures, survives it. */
import { HUB_SECTION, keepSection } from '../../bench/report';

const report = '# Performance\n\n## Footprint\n\nrows\n\n## How the figures are made\n\nnotes\n';

test('the previous report\'s hub section is put back before "How the figures are made"', () => {
  const previous = `# Performance\n\n${HUB_SECTION}\n\n| a | b |\n\n## How the figures are made\n\nold\n`;
  const out = keepSection(previous, report);
  expect(out).toBe(
    `# Performance\n\n## Footprint\n\nrows\n\n${HUB_SECTION}\n\n| a | b |\n\n## How the figures are made\n\nnotes\n`
  );
});

test('a previous report without it, or a report that has its own, is left as it is', () => {
  expect(keepSection('# Performance\n', report)).toBe(report);
  const own = `${report}\n${HUB_SECTION}\n\nnew\n`;
  expect(keepSection(`${HUB_SECTION}\n\nold\n`, own)).toBe(own);
});
