/**
 * Whether a file the bot posted is one of a job's images, by its name: both adapters name them `<what>-<job
 * id>.<ext>` (painting-12.png, comparison-12.jpg, side-by-side-12.png, preview-12.jpg, timelapse-12.webp), so
 * a thread shared by a painting and its variations tells each job's files apart.
 */
export function isJobFile(fileName: string, jobId: number): boolean {
  return new RegExp(`^[a-z-]+-${jobId}\\.[a-z0-9]+$`).test(fileName);
}
