import { AssayError } from '../errors.js';
import type { Dataset } from '../types.js';

/**
 * The dataset version a read or a run uses: `version` when given, else the latest. A version
 * after the latest is a 400 `UNKNOWN_VERSION` (every version from 0 to the latest exists).
 *
 * @example versionOf(dataset, query.version) // dataset.version when query.version is undefined
 */
export function versionOf(dataset: Pick<Dataset, 'id' | 'version'>, version: number | undefined): number {
  if (version === undefined) return dataset.version;
  if (version > dataset.version) {
    throw new AssayError(
      'UNKNOWN_VERSION',
      `dataset '${dataset.id}' has no version ${version} (latest is ${dataset.version})`,
      400,
      { version, latest: dataset.version },
    );
  }
  return version;
}
