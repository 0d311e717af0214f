#pragma once

// Encryption at rest for everything RocksDB writes: a rocksdb::FileSystem that encrypts each file
// below the store's own format, so SST files, write-ahead logs, MANIFEST, OPTIONS, CURRENT, the
// info LOG and every backup file are ciphertext on disk, whatever RocksDB puts in them.
//
// Envelope encryption: every file has its own random 256-bit data key, kept in the file's header
// wrapped (AES-256-GCM) by a master key from the KeyRing, with that key's id. A rotation adds a
// master key without touching data; `keys rewrap` rewrites only headers.
//
// Authenticated encryption per 4 KiB slot (AES-256-GCM through OpenSSL's EVP, which uses AES-NI):
// a slot that was altered, moved or taken from another file fails authentication and the read
// returns Corruption naming the file, never garbage. The layout is in
// internal/encrypted_format.h. A slot is written whole: appends fill an in-memory partial slot,
// which Flush and Sync write (and a later append writes again, longer, with a new nonce); full
// slots are never rewritten. So a synced write is on disk like a plaintext one, and a kill -9
// leaves at most the unsynced tail unwritten. (A power cut that tears the rewrite of a file's last
// partial slot loses that slot: see docs/encryption.md.)
//
// A file read through this file system must be encrypted: a plain file is refused (Corruption,
// "is not encrypted") rather than read, so nobody can slip a plaintext file into an encrypted store.
// The LOCK file is not written through a file system, so it stays empty and plain.
//
// Thread-safety: as RocksDB requires of a FileSystem; readers may be shared between threads.

#include <memory>

#include "profile_store/key_ring.h"
#include "rocksdb/env.h"
#include "rocksdb/file_system.h"

namespace tessera::profile_store {

std::shared_ptr<rocksdb::FileSystem> NewEncryptedFileSystem(std::shared_ptr<rocksdb::FileSystem> base,
                                                            std::shared_ptr<const KeyRing> keys);

// An Env whose files go through NewEncryptedFileSystem over the default file system.
std::unique_ptr<rocksdb::Env> NewEncryptedEnv(std::shared_ptr<const KeyRing> keys);

}  // namespace tessera::profile_store
