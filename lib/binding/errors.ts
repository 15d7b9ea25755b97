/**
 * Native errors cross into TypeScript here, once: the addon throws an Error with `errno` (positive)
 * and a message that already names the cause and the fix; this maps errno to a stable code.
 */
import { TickpathError } from '../errors';

const kCodes: Record<number, string> = {
  1: 'ERR_PERMISSION',        // EPERM
  2: 'ERR_NOT_FOUND',         // ENOENT
  12: 'ERR_NO_MEMORY',        // ENOMEM: hugepages, pools
  13: 'ERR_PERMISSION',       // EACCES
  16: 'ERR_BUSY',             // EBUSY
  19: 'ERR_NO_DEVICE',        // ENODEV
  22: 'ERR_INVALID_OPTION',   // EINVAL
  24: 'ERR_TOO_MANY_PORTS',   // EMFILE
  27: 'ERR_FILE_TOO_BIG',     // EFBIG
  38: 'ERR_NOT_IMPLEMENTED',  // ENOSYS
  71: 'ERR_BAD_CAPTURE',      // EPROTO: pcap header, link type, truncation
  95: 'ERR_BACKEND_UNAVAILABLE', // ENOTSUP / EOPNOTSUPP: not compiled in, no XDP support
  114: 'ERR_EAL_ALREADY_INITIALIZED', // EALREADY
};

export function nativeError(err: unknown, backend?: string): TickpathError {
  if (err instanceof TickpathError) return err;
  const e = err as { errno?: number; message?: string; backend?: string };
  const errno = typeof e?.errno === 'number' ? e.errno : undefined;
  const code = (errno !== undefined && kCodes[errno]) || 'ERR_NATIVE';
  const who = backend ?? e?.backend;
  const msg = `${who ? `${who}: ` : ''}${e?.message ?? String(err)}`;
  return new TickpathError(code, msg, undefined, errno);
}

/** Runs a native call, converting what it throws. */
export function callNative<T>(backend: string | undefined, fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    throw nativeError(err, backend);
  }
}
