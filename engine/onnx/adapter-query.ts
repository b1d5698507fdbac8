/**
 * Run as its own process by providers.ts: prints, as one JSON line, the WebGPU adapter that Dawn picks for
 * the high-performance preference (what ONNX Runtime's WebGPU provider asks for), or `null` when there is
 * none. Dawn's own Node.js binding (npm `webgpu`) tells which adapter answered, which ONNX Runtime does not.
 * A separate process keeps Dawn's warnings (printed to stderr, e.g. about lavapipe's limits) out of the
 * caller's output, and a second Dawn out of its memory.
 */
import { create } from 'webgpu';

export interface AdapterInfo {
  vendor: string;
  architecture: string;
  device: string;
  description: string;
  /** A fallback adapter, in WebGPU's terms: a CPU implementation. */
  isFallbackAdapter: boolean;
}

const adapter = await create([]).requestAdapter({ powerPreference: 'high-performance' });
const info = adapter?.info as (GPUAdapterInfo & { isFallbackAdapter?: boolean }) | undefined;
const answer: AdapterInfo | null =
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
    : null;
process.stdout.write(`${JSON.stringify(answer)}\n`);
// Dawn's instance would keep the event loop alive.
process.exit(0);
