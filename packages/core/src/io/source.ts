/**
 * A file's bytes as text, chunk by chunk: a browser `File.stream()`, a Node read stream (an async
 * iterable of Buffers) or any iterable of strings. Only the chunk at hand is held, never the file.
 */
export type ByteSource = ReadableStream<Uint8Array> | AsyncIterable<Uint8Array | string> | Iterable<string>;

function isReadableStream(s: ByteSource): s is ReadableStream<Uint8Array> {
  return typeof (s as ReadableStream<Uint8Array>).getReader === 'function';
}

async function* chunksOf(source: ByteSource): AsyncGenerator<Uint8Array | string> {
  if (!isReadableStream(source)) {
    yield* source;
    return;
  }
  const reader = source.getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return;
      yield value;
    }
  } finally {
    // A reader that stops early (a preview of the first rows) cancels the rest of the file.
    await reader.cancel().catch(() => {});
  }
}

/** Decodes UTF-8 (invalid bytes become U+FFFD), drops a leading byte order mark, reports bytes read. */
export async function* textChunks(source: ByteSource, onBytes?: (bytes: number) => void): AsyncGenerator<string> {
  const decoder = new TextDecoder('utf-8');
  let first = true;
  for await (const chunk of chunksOf(source)) {
    let text: string;
    if (typeof chunk === 'string') {
      onBytes?.(chunk.length);
      text = chunk;
    } else {
      onBytes?.(chunk.byteLength);
      text = decoder.decode(chunk, { stream: true });
    }
    if (first && text) {
      first = false;
      if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
    }
    if (text) yield text;
  }
  const rest = decoder.decode();
  if (rest) yield rest;
}
