export type WeightsErrorCode =
  | 'SOURCE' // the source is unusable: bad URL, missing directory, no manifest, a host it may not use
  | 'MANIFEST' // the manifest is malformed or holds no usable convolution layers
  | 'HTTP' // the server answered with an error status
  | 'NETWORK' // connection failures and timeouts, after the retries
  | 'SIZE' // a shard is not the size its manifest says, or the download exceeds the size cap
  | 'CONTENT' // the server sent something else than the file (a web page)
  | 'CHECKSUM'; // a shard's sha256 is not the one expected

/** Every failure of the weights downloader; `file` names the shard or file concerned when there is one. */
export class WeightsDownloadError extends Error {
  override readonly name: string = 'WeightsDownloadError';
  readonly code: WeightsErrorCode;
  readonly file: string | undefined;
  /** The HTTP status that ended the request, when it was one. */
  readonly status: number | undefined;

  constructor(
    code: WeightsErrorCode,
    message: string,
    opts: { file?: string | undefined; status?: number | undefined; cause?: unknown } = {},
  ) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.code = code;
    this.file = opts.file;
    this.status = opts.status;
  }
}

/** A shard whose content does not hash to what was expected. Its partial download has been deleted. */
export class ChecksumMismatchError extends WeightsDownloadError {
  override readonly name = 'ChecksumMismatchError';
  readonly expected: string;
  readonly actual: string;
  /** Where the expected hash came from: pinned in the code, shipped by the source, or recorded on first use. */
  readonly expectedFrom: string;

  constructor(file: string, expected: string, actual: string, expectedFrom: string) {
    super(
      'CHECKSUM',
      `sha256 mismatch for ${file}: expected ${expected} (${expectedFrom}), got ${actual}; the download was discarded`,
      { file },
    );
    this.expected = expected;
    this.actual = actual;
    this.expectedFrom = expectedFrom;
  }
}
