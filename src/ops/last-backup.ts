/**
 * What the node records of its last backup (`shieldwall backup`, ops/backup.ts), read by the
 * System page and `shieldwall status` without loading the backup code.
 */

/** Store meta key of the last backup. */
export const LAST_BACKUP_META = 'ops.last-backup';

/** What a snapshot holds, read in the snapshot itself. */
export interface BackupCounts {
  objectVersions: number;
  organisations: number;
  users: number;
  records: number;
  auditEntries: number;
  peers: number;
}

export interface LastBackup {
  at: string;
  store: 'sqlite' | 'postgresql';
  counts: BackupCounts;
}

/** The recorded last backup, or null (never, or a record this version cannot read). */
export function readLastBackup(raw: string | null): LastBackup | null {
  if (raw === null) return null;
  try {
    const b = JSON.parse(raw) as Partial<LastBackup>;
    if (typeof b.at !== 'string' || (b.store !== 'sqlite' && b.store !== 'postgresql') || typeof b.counts !== 'object' || b.counts === null) return null;
    return { at: b.at, store: b.store, counts: b.counts };
  } catch {
    return null;
  }
}
