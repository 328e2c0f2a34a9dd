// Fallback peak-RSS probe when /usr/bin/time is missing: `node --import bench/lib/rss-hook.mjs ...`
// writes process.resourceUsage().maxRSS (KB) to $ORGLOOP_BENCH_RSS_FILE when the process exits.
import { writeFileSync } from 'node:fs';
import process from 'node:process';

const file = process.env.ORGLOOP_BENCH_RSS_FILE;
if (file) {
  process.on('exit', () => {
    try {
      writeFileSync(file, String(process.resourceUsage().maxRSS) + '\n');
    } catch {
      /* nothing to report to */
    }
  });
}
