/**
 * Run as its own process by providers.ts: prints, as one JSON line, the WebGPU adapter that Dawn picks for
 * the high-performance preference (what ONNX Runtime's WebGPU provider asks for), or `null` when there is
 * none. Dawn's own Node.js binding (npm `webgpu`) tells which adapter answered, which ONNX Runtime does not.
 * A separate process keeps Dawn's warnings (printed to stderr, e.g. about lavapipe's limits) out of the
 * caller's output, and a second Dawn out of its memory. `webgpu` is an optional dependency (132 MB of Dawn
 * builds): where it is not installed, this prints `"not-installed"`.
 */

export interface AdapterInfo {
  vendor: string;
  architecture: string;
  device: string;
  description: string;
  /** A fallback adapter, in WebGPU's terms: a CPU implementation. */
  isFallbackAdapter: boolean;
}

/** What this process prints. */
export type AdapterAnswer = AdapterInfo | null | 'not-installed';

const dawn = await import('webgpu').catch((error: NodeJS.ErrnoException) => {
  if (error.code === 'ERR_MODULE_NOT_FOUND') return undefined;
  throw error;
});
if (!dawn) answer('not-installed');
const adapter = await dawn.create([]).requestAdapter({ powerPreference: 'high-performance' });
const info = adapter?.info as (GPUAdapterInfo & { isFallbackAdapter?: boolean }) | undefined;
answer(
  adapter && info
    ? {
        vendor: info.vendor,
        architecture: info.architecture,
        device: info.device,
        description: info.description,
        isFallbackAdapter:
          info.isFallbackAdapter === true ||
          (adapter as { isFallbackAdapter?: boolean }).isFallbackAdapter === true,
      }
    : null,
);

function answer(value: AdapterAnswer): never {
  process.stdout.write(`${JSON.stringify(value)}\n`);
  // Dawn's instance would keep the event loop alive.
  process.exit(0);
}
