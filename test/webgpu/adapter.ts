import { BackendUnavailable } from '../../engine/backends.ts';
import { findDevice } from '../../engine/onnx/providers.ts';

/**
 * Why the WebGPU tests cannot run here, or undefined when they can. They run on any Vulkan adapter, lavapipe
 * included (Mesa from bookworm-backports: .ci/run installs it); they skip, saying so, only where no Vulkan
 * driver reports a device at all. Any other failure is a failure.
 */
export async function webgpuSkipReason(): Promise<string | undefined> {
  try {
    const device = await findDevice('webgpu');
    process.stderr.write(
      `WebGPU tests run on: ${device.name}${device.software ? ' (software adapter)' : ''}\n`,
    );
    return undefined;
  } catch (error) {
    if (!(error instanceof BackendUnavailable) || error.code !== 'no-device') throw error;
    const reason = `WebGPU tests skipped: ${error.message}`;
    process.stderr.write(`${reason}\n`);
    return reason;
  }
}
