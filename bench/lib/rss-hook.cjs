// Fallback peak-RSS probe when /usr/bin/time is missing: `node --require bench/lib/rss-hook.cjs ...`
// writes process.resourceUsage().maxRSS (KB) to $ORGLOOP_BENCH_RSS_FILE when the process exits.
const fs = require('node:fs');
const file = process.env.ORGLOOP_BENCH_RSS_FILE;
if (file) {
  process.on('exit', () => {
    try {
      fs.writeFileSync(file, String(process.resourceUsage().maxRSS) + '\n');
    } catch {
      /* nothing to report to */
    }
  });
}
