/** Reading a Prometheus text document in tests. */

/** `name{labels} value` lines of a Prometheus text document, by name and label set. */
export function parseMetrics(text: string): { value(name: string, labels?: Record<string, string>): number } {
  const samples: { name: string; labels: Record<string, string>; value: number }[] = [];
  for (const line of text.split('\n')) {
    const m = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m) continue;
    const labels = Object.fromEntries([...(m[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((x) => [x[1], x[2]]));
    samples.push({ name: m[1] as string, labels, value: Number(m[3]) });
  }
  return {
    /** The sum of the samples of `name` whose labels include `labels`. */
    value(name, want = {}) {
      return samples.filter((x) => x.name === name && Object.entries(want).every(([k, v]) => x.labels[k] === v)).reduce((sum, x) => sum + x.value, 0);
    },
  };
}
