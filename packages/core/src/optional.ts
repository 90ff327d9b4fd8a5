/**
 * Optional peer dependencies (PostgreSQL's `pg`, BullMQ and ioredis, the AI SDK) load on first
 * use, so an install that needs none of them leaves them out; a missing one is named, with the
 * command that installs it.
 */
export class MissingPackageError extends Error {
  constructor(
    readonly packages: string[],
    purpose: string,
  ) {
    super(
      `${purpose} needs the npm package${packages.length > 1 ? 's' : ''} ${packages.join(' and ')}, which ${packages.length > 1 ? 'are' : 'is'} not installed: npm install ${packages.join(' ')}`,
    );
    this.name = 'MissingPackageError';
  }
}

/** True when `error` says that one of `packages` could not be found. */
export function isMissingPackage(error: unknown, packages: string[]): boolean {
  const e = error as { code?: unknown; message?: unknown } | null;
  if (!e || (e.code !== 'ERR_MODULE_NOT_FOUND' && e.code !== 'MODULE_NOT_FOUND')) return false;
  const message = String(e.message);
  return packages.some((p) => message.includes(`'${p}'`) || message.includes(`"${p}"`));
}

/** `import(load)` whose failure for lack of one of `packages` becomes a {@link MissingPackageError}. */
export async function importOptional<T>(load: () => Promise<T>, packages: string[], purpose: string): Promise<T> {
  try {
    return await load();
  } catch (e) {
    if (isMissingPackage(e, packages)) throw new MissingPackageError(packages, purpose);
    throw e;
  }
}
