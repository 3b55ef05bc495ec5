// The local-copy API: what the browser still holds of an item (retain 'keep', or not uploaded yet).

/**
 * The local copy of an item as a Blob, or null (nothing stored, or some parts already deleted under
 * retain 'confirmed').
 * @param {import('./queue-store.js').QueueStore} store
 */
export async function getLocalCopy(store, itemId) {
  const info = await store.itemInfo(itemId);
  const shot = await store.screenshot(itemId);
  if (shot) return new Blob([shot.bytes], { type: shot.mimeType });
  const parts = await store.parts(itemId);
  if (!parts.length) return null;
  for (let i = 0; i < parts.length; i++) if (parts[i].index !== i) return null;
  return new Blob(parts.map((p) => p.bytes), { type: info?.mimeType || 'video/webm' });
}

/**
 * Deletes an uploaded item's local copy. `item` is the queue's view of it (undefined when the queue does
 * not know it, e.g. in a following tab or after it left the completed list): only an uploaded item's copy
 * goes; remove() cancels an item that is not uploaded yet.
 */
export async function deleteLocalCopy(store, itemId, item) {
  if (item && item.state !== 'completed') throw new Error(`deleteLocalCopy: ${itemId} is ${item.state}, not uploaded yet (remove() cancels it)`);
  await store.commit(store.removeItemOps(itemId));
}

/** navigator.storage.estimate() where it exists (the memory store counts its bytes), and the storage status. */
export async function storageEstimate(store, storage) {
  const u = await store.usage();
  return { ...u, persisted: storage.persisted, quotaExceeded: storage.quotaExceeded };
}
