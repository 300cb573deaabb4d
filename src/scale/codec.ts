/**
 * One JetStream message per ingest chunk, with the SQL spool's chunk body (store/spool-codec.ts);
 * headers carry what the spool row carries beside the body. An event's seq is the message's stream
 * sequence × LINE_SLOTS + its line.
 */
export { LINE_SLOTS, encodeLines, eventSeq, splitEventSeq, decodeChunk, chunkLines, type ChunkMeta, type ChunkLine } from '../store/spool-codec.js';

export const H_ORG = 'Shieldwall-Org';
export const H_SENSOR = 'Shieldwall-Sensor';
export const H_RECEIVED = 'Shieldwall-Received-Us';
export const H_EXERCISE = 'Shieldwall-Exercise';
