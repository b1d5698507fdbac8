import { downloadFaults } from '../lib/metrics.ts';

/** The `stylize_download_faults_total` count of one platform and reason, as a scrape would show it. */
export async function downloadFaultCount(platform: string, reason: string): Promise<number> {
  const { values } = await downloadFaults.get();
  return values.find((v) => v.labels.platform === platform && v.labels.reason === reason)?.value ?? 0;
}
