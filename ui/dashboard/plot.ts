/**
 * uPlot, in a file of its own (dist/dashboard/plot.js) that the page imports once it has shown its
 * first state: uPlot makes `Intl` formatters as it loads (the first `Intl` object of a page loads
 * the browser's locale data, 40–60 ms), and a chart's first draw takes ~40 ms more, none of which
 * the lanes, the log and the totals need to wait for. The page's HTML preloads the file, so it is
 * fetched and compiled while the page's own script runs.
 */
import uPlot from 'uplot';

export default uPlot;
