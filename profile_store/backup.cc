#include "profile_store/backup.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <map>
#include <memory>
#include <random>
#include <set>
#include <string_view>
#include <system_error>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_join.h"
#include "profile_store/encrypted_file_system.h"
#include "profile_store/internal/swap_directory.h"
#include "profile_store/store_encryption.h"
#include "profile_store/internal/sync_directory.h"
#include "rocksdb/env.h"
#include "rocksdb/utilities/backup_engine.h"
#include "rocksdb/utilities/checkpoint.h"

namespace tessera::profile_store {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

// Stored with each backup, so that a directory of someone else's RocksDB backups is recognized.
// A backup of the state database taken before the intake existed holds the log itself.
constexpr std::string_view kLegacyBackupMetadata = "tessera store";
// A backup of the state database whose log is in a paired backup of the intake database.
constexpr char kBackupMetadata[] = "tessera store with intake";
// The intake's backups live in `<backup_dir>/intake`; each one's metadata names the state backup
// it pairs with.
constexpr char kIntakeMetadataPrefix[] = "tessera intake of backup ";

std::string IntakeBackupDir(const std::string& backup_dir) { return backup_dir + "/intake"; }

// Does `inner` lie in `outer` (or is it `outer`)? Both are made absolute and normalized first;
// neither has to exist.
bool IsWithin(const fs::path& inner, const fs::path& outer) {
  std::error_code ignored;
  const fs::path a = fs::weakly_canonical(fs::absolute(inner, ignored), ignored);
  const fs::path b = fs::weakly_canonical(fs::absolute(outer, ignored), ignored);
  auto a_it = a.begin();
  for (auto b_it = b.begin(); b_it != b.end(); ++b_it, ++a_it) {
    if (b_it->empty()) continue;  // trailing separator
    if (a_it == a.end() || *a_it != *b_it) return false;
  }
  return true;
}

absl::Status FileSystemError(const std::error_code& error, std::string_view what) {
  const std::string message = absl::StrCat(std::string(what), ": ", error.message());
  if (error == std::errc::permission_denied || error == std::errc::operation_not_permitted ||
      error == std::errc::read_only_file_system) {
    return absl::PermissionDeniedError(message);
  }
  return absl::InvalidArgumentError(message);
}

// A backup directory holds `meta/` (one file per backup) next to the shared files.
bool HoldsBackups(const fs::path& dir) {
  std::error_code ignored;
  return fs::is_directory(dir / "meta", ignored);
}

absl::Status PrepareBackupDirectory(const std::string& backup_dir, const std::string& store_path) {
  if (backup_dir.empty()) return absl::InvalidArgumentError("no backup directory given");
  const fs::path dir(backup_dir);
  if (IsWithin(dir, store_path)) {
    return absl::InvalidArgumentError(absl::StrCat("backup directory ", backup_dir, " is inside the store ",
                                                   store_path, "; choose a directory outside it"));
  }
  std::error_code error;
  const fs::file_status status = fs::status(dir, error);
  if (fs::exists(status)) {
    if (!fs::is_directory(status)) {
      return absl::InvalidArgumentError(
          absl::StrCat("backup directory ", backup_dir, " exists and is not a directory"));
    }
    if (!HoldsBackups(dir) && !fs::is_empty(dir, error)) {
      return absl::InvalidArgumentError(
          absl::StrCat("backup directory ", backup_dir,
                       " is not empty and holds no backups; choose a new or empty "
                       "directory, or one that holds earlier backups of this store"));
    }
  } else {
    fs::create_directories(dir, error);
    if (error) return FileSystemError(error, absl::StrCat("cannot create backup directory ", backup_dir));
  }
  if (::access(backup_dir.c_str(), W_OK | X_OK) != 0) {
    return absl::PermissionDeniedError(
        absl::StrCat("backup directory ", backup_dir, " is not writable: ", std::strerror(errno)));
  }
  return absl::OkStatus();
}

BackupSummary SummaryOf(const rocksdb::BackupInfo& info, const std::string& backup_dir, uint32_t backups) {
  BackupSummary summary;
  summary.directory = backup_dir;
  summary.backup_id = info.backup_id;
  summary.size_bytes = info.size;
  summary.files = info.number_files;
  summary.created = std::chrono::system_clock::time_point(std::chrono::seconds(info.timestamp));
  summary.backups_in_directory = backups;
  return summary;
}

uint32_t CountBackups(const rocksdb::BackupEngineReadOnlyBase& engine) {
  std::vector<rocksdb::BackupInfo> all;
  engine.GetBackupInfo(&all);
  return static_cast<uint32_t>(all.size());
}

// Looks up backup `backup_id` (0: the latest valid one) and checks its files' sizes and checksums.
absl::StatusOr<BackupSummary> VerifyWith(const rocksdb::BackupEngineReadOnlyBase& engine,
                                         const std::string& backup_dir, uint32_t backup_id) {
  rocksdb::BackupInfo info;
  const rocksdb::Status found =
      backup_id == 0 ? engine.GetLatestBackupInfo(&info) : engine.GetBackupInfo(backup_id, &info);
  if (!found.ok()) {
    std::vector<rocksdb::BackupID> corrupt;
    engine.GetCorruptedBackups(&corrupt);
    const bool is_corrupt = std::find(corrupt.begin(), corrupt.end(), backup_id) != corrupt.end();
    if (is_corrupt || (backup_id == 0 && !corrupt.empty())) {
      return absl::DataLossError(absl::StrCat(
          backup_dir, ": ", backup_id == 0 ? "no valid backup; damaged backup(s):" : "damaged backup(s):",
          absl::StrJoin(corrupt, ", "), " (", found.ToString(), ")"));
    }
    return absl::NotFoundError(backup_id == 0 ? absl::StrCat("no backup in ", backup_dir)
                                              : absl::StrCat("no backup ", backup_id, " in ", backup_dir));
  }
  const rocksdb::IOStatus verified = engine.VerifyBackup(info.backup_id, /*verify_with_checksum=*/true);
  if (!verified.ok()) {
    return absl::DataLossError(
        absl::StrCat("backup ", info.backup_id, " in ", backup_dir, " is damaged: ", verified.ToString()));
  }
  return SummaryOf(info, backup_dir, CountBackups(engine));
}

// A state backup of the intake's time: "tessera store with intake <token>", the token random per
// backup. Its intake backup's metadata is "tessera intake of backup <id> <token>": RocksDB gives a
// deleted backup's id out again, so the id alone would not tell an old intake copy from the pair.
bool HasIntake(const rocksdb::BackupInfo& info) {
  return info.app_metadata.rfind(std::string(kBackupMetadata) + " ", 0) == 0;
}
bool IsLegacy(const rocksdb::BackupInfo& info) { return info.app_metadata == kLegacyBackupMetadata; }

// The key an intake backup names its state backup by: "<id> <token>".
std::string PairKey(const rocksdb::BackupInfo& state) {
  return absl::StrCat(state.backup_id, " ", state.app_metadata.substr(std::string_view(kBackupMetadata).size() + 1));
}

std::string NewToken() {
  std::random_device device;
  const uint64_t token = (static_cast<uint64_t>(device()) << 32) ^ device();
  return absl::StrCat(absl::Hex(token, absl::kZeroPad16));
}

// Whether the backups in `dir` can be read (and added to) with `keys` (null: plain backups).
absl::Status CheckBackupEncryption(const std::string& dir, const KeyRing* keys) {
  std::error_code ignored;
  if (!fs::exists(dir, ignored)) return absl::OkStatus();
  absl::StatusOr<EncryptionCensus> census = TakeEncryptionCensus(dir);
  if (!census.ok()) return census.status();
  if (keys == nullptr && census->encrypted_files > 0) {
    const auto& [key, file] = *census->a_file_by_key.begin();
    return absl::FailedPreconditionError(absl::StrCat("the backups in ", dir, " are encrypted (", file,
                                                      " needs master key ", key, ") and no key is configured"));
  }
  if (keys != nullptr && census->plain_files > 0) {
    return absl::FailedPreconditionError(absl::StrCat(
        "the backups in ", dir, " are not encrypted (", census->a_plain_file,
        ") but encryption is configured: restore them without it and convert the store with `tessera encrypt`, "
        "or back up into a new directory"));
  }
  if (keys == nullptr) return absl::OkStatus();
  for (const auto& [key, file] : census->a_file_by_key) {
    const auto& loaded = keys->keys();
    if (std::none_of(loaded.begin(), loaded.end(),
                     [&](const KeyRing::MasterKey& master) { return KeyIdHex(master.id) == key; })) {
      return absl::FailedPreconditionError(absl::StrCat("file ", file, ": needs master key ", key,
                                                        ", which is not loaded (loaded: ", keys->Describe(), ")"));
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<rocksdb::BackupEngineReadOnly>> OpenReadOnly(const std::string& dir, rocksdb::Env* env) {
  rocksdb::BackupEngineReadOnly* raw_engine = nullptr;
  const rocksdb::IOStatus status = rocksdb::BackupEngineReadOnly::Open(rocksdb::BackupEngineOptions(dir), env, &raw_engine);
  if (!status.ok()) return ToAbslStatus(status, absl::StrCat("opening backup directory ", dir));
  return std::unique_ptr<rocksdb::BackupEngineReadOnly>(raw_engine);
}

struct IntakeBackups {
  std::map<std::string, rocksdb::BackupID> newest;  // pair key -> the newest intake backup naming it
  std::vector<rocksdb::BackupInfo> all;              // every intake backup of Tessera's
};

absl::StatusOr<IntakeBackups> ReadIntakeBackups(const std::string& backup_dir, rocksdb::Env* env) {
  IntakeBackups found;
  const std::string intake_dir = IntakeBackupDir(backup_dir);
  if (!HoldsBackups(intake_dir)) return found;
  absl::StatusOr<std::unique_ptr<rocksdb::BackupEngineReadOnly>> engine = OpenReadOnly(intake_dir, env);
  if (!engine.ok()) return engine.status();
  std::vector<rocksdb::BackupInfo> intakes;
  (*engine)->GetBackupInfo(&intakes);
  const std::string prefix(kIntakeMetadataPrefix);
  for (const rocksdb::BackupInfo& info : intakes) {
    if (info.app_metadata.rfind(prefix, 0) != 0) continue;
    rocksdb::BackupID& newest = found.newest[info.app_metadata.substr(prefix.size())];
    newest = std::max(newest, info.backup_id);
    found.all.push_back(info);
  }
  return found;
}

// The newest state backup that is whole: from before the intake, or paired with an intake backup.
// 0 when there is none (the caller's lookup of "the latest" then reports why).
absl::StatusOr<rocksdb::BackupID> LatestWholeBackup(const rocksdb::BackupEngineReadOnlyBase& state_engine,
                                                    const std::string& backup_dir, rocksdb::Env* env) {
  absl::StatusOr<IntakeBackups> intakes = ReadIntakeBackups(backup_dir, env);
  if (!intakes.ok()) return intakes.status();
  std::vector<rocksdb::BackupInfo> states;
  state_engine.GetBackupInfo(&states);
  rocksdb::BackupID latest = 0;
  for (const rocksdb::BackupInfo& info : states) {
    if (IsLegacy(info) || (HasIntake(info) && intakes->newest.contains(PairKey(info)))) {
      latest = std::max(latest, info.backup_id);
    }
  }
  return latest;
}

// The intake backup paired with state backup `state_id`, verified: 0 when the state backup is from
// before the intake (its log is inside it); DataLoss when the pair is missing or damaged.
absl::StatusOr<rocksdb::BackupID> PairedIntakeBackup(const rocksdb::BackupEngineReadOnlyBase& state_engine,
                                                     const std::string& backup_dir, rocksdb::BackupID state_id,
                                                     rocksdb::Env* env) {
  std::vector<rocksdb::BackupInfo> states;
  state_engine.GetBackupInfo(&states);
  const auto state = std::find_if(states.begin(), states.end(),
                                  [&](const rocksdb::BackupInfo& info) { return info.backup_id == state_id; });
  if (state != states.end() && IsLegacy(*state)) return 0;
  const std::string intake_dir = IntakeBackupDir(backup_dir);
  absl::StatusOr<IntakeBackups> intakes = ReadIntakeBackups(backup_dir, env);
  if (!intakes.ok()) return intakes.status();
  const auto paired = state != states.end() && HasIntake(*state) ? intakes->newest.find(PairKey(*state))
                                                                  : intakes->newest.end();
  if (paired == intakes->newest.end()) {
    return absl::DataLossError(absl::StrCat("backup ", state_id, " in ", backup_dir,
                                            " has no backup of its event log in ", intake_dir));
  }
  absl::StatusOr<std::unique_ptr<rocksdb::BackupEngineReadOnly>> engine = OpenReadOnly(intake_dir, env);
  if (!engine.ok()) return engine.status();
  absl::StatusOr<BackupSummary> verified = VerifyWith(**engine, intake_dir, paired->second);
  if (!verified.ok()) return verified.status();
  return paired->second;
}

// A backup to verify or restore: the state's, with its engine, and the intake's paired with it.
struct WholeBackup {
  std::unique_ptr<rocksdb::Env> env;  // The encrypting Env of an encrypted backup; outlives the engines.
  BackupSummary summary;
  std::unique_ptr<rocksdb::BackupEngineReadOnly> engine;
  rocksdb::BackupID intake_id = 0;  // 0: a backup from before the intake, its log inside it.
  std::unique_ptr<rocksdb::BackupEngineReadOnly> intake_engine;
};

// Backup `backup_id` of `backup_dir` (0: the newest whole one), both parts verified.
absl::StatusOr<WholeBackup> FindWholeBackup(const std::string& backup_dir, rocksdb::BackupID backup_id,
                                            std::shared_ptr<const KeyRing> keys) {
  if (!HoldsBackups(backup_dir)) return absl::NotFoundError(absl::StrCat("no backups in ", backup_dir));
  if (absl::Status status = CheckBackupEncryption(backup_dir, keys.get()); !status.ok()) return status;
  WholeBackup whole;
  if (keys != nullptr) whole.env = NewEncryptedEnv(std::move(keys));
  rocksdb::Env* env = whole.env != nullptr ? whole.env.get() : rocksdb::Env::Default();
  absl::StatusOr<std::unique_ptr<rocksdb::BackupEngineReadOnly>> engine = OpenReadOnly(backup_dir, env);
  if (!engine.ok()) return engine.status();
  if (backup_id == 0) {
    absl::StatusOr<rocksdb::BackupID> latest = LatestWholeBackup(**engine, backup_dir, env);
    if (!latest.ok()) return latest.status();
    backup_id = *latest;
  }
  absl::StatusOr<BackupSummary> summary = VerifyWith(**engine, backup_dir, backup_id);
  if (!summary.ok()) return summary.status();
  absl::StatusOr<rocksdb::BackupID> intake_id = PairedIntakeBackup(**engine, backup_dir, summary->backup_id, env);
  if (!intake_id.ok()) return intake_id.status();
  whole.summary = *std::move(summary);
  whole.engine = *std::move(engine);
  whole.intake_id = *intake_id;
  if (whole.intake_id != 0) {
    absl::StatusOr<std::unique_ptr<rocksdb::BackupEngineReadOnly>> intake = OpenReadOnly(IntakeBackupDir(backup_dir), env);
    if (!intake.ok()) return intake.status();
    whole.intake_engine = *std::move(intake);
  }
  return whole;
}

// Deletes what an interrupted backup left: Tessera's state backups whose intake copy never
// finished, and intake backups that are no state backup's pair. Backups with other metadata
// (not Tessera's) are left alone.
absl::Status DeleteUnpairedBackups(rocksdb::BackupEngine& state_engine, rocksdb::BackupEngine& intake_engine,
                                   const std::string& backup_dir, rocksdb::Env* env) {
  absl::StatusOr<IntakeBackups> intakes = ReadIntakeBackups(backup_dir, env);
  if (!intakes.ok()) return intakes.status();
  std::vector<rocksdb::BackupInfo> states;
  state_engine.GetBackupInfo(&states);
  std::set<std::string> whole;
  for (const rocksdb::BackupInfo& info : states) {
    if (!HasIntake(info)) continue;
    const std::string key = PairKey(info);
    if (intakes->newest.contains(key)) {
      whole.insert(key);
      continue;
    }
    if (rocksdb::IOStatus deleted = state_engine.DeleteBackup(info.backup_id); !deleted.ok()) {
      return ToAbslStatus(deleted, absl::StrCat("deleting the unfinished backup ", info.backup_id));
    }
  }
  const std::string prefix(kIntakeMetadataPrefix);
  for (const rocksdb::BackupInfo& info : intakes->all) {
    const std::string key = info.app_metadata.substr(prefix.size());
    if (whole.contains(key) && intakes->newest.at(key) == info.backup_id) continue;
    if (rocksdb::IOStatus deleted = intake_engine.DeleteBackup(info.backup_id); !deleted.ok()) {
      return ToAbslStatus(deleted, absl::StrCat("deleting the unpaired log backup ", info.backup_id));
    }
  }
  return absl::OkStatus();
}

}  // namespace

bool StoreExists(const std::string& store_path) {
  std::error_code ignored;
  return fs::exists(fs::path(store_path) / "CURRENT", ignored);
}

absl::StatusOr<bool> StoreIsLocked(const std::string& store_path) {
  if (!StoreExists(store_path)) return false;
  rocksdb::Env* env = rocksdb::Env::Default();
  rocksdb::FileLock* lock = nullptr;
  const rocksdb::Status status = env->LockFile(store_path + "/LOCK", &lock);
  if (status.ok()) {
    env->UnlockFile(lock).PermitUncheckedError();
    return false;
  }
  // RocksDB words a failure to open the lock file (permissions) differently from a lock held by
  // another process ("While lock file") or by this one ("lock hold by current process").
  if (status.ToString().find("While open a file for lock") != std::string::npos) {
    return ToAbslStatus(status, absl::StrCat("checking whether the store at ", store_path, " is in use"));
  }
  return true;
}

absl::StatusOr<BackupSummary> CreateBackup(Store& store, const std::string& backup_dir) {
  const auto start = Clock::now();
  if (absl::Status status = PrepareBackupDirectory(backup_dir, store.options().path); !status.ok())
    return status;
  if (absl::Status status = CheckBackupEncryption(backup_dir, store.options().encryption_keys.get()); !status.ok()) {
    return status;
  }

  // Through the store's Env: an encrypted store's backups are encrypted with the same keys.
  auto open_engine = [&store](const std::string& dir) -> absl::StatusOr<std::unique_ptr<rocksdb::BackupEngine>> {
    rocksdb::BackupEngineOptions engine_options(dir);
    engine_options.max_background_operations = 1;  // One copy thread: the server keeps the other cores.
    rocksdb::BackupEngine* raw_engine = nullptr;
    rocksdb::IOStatus status = rocksdb::BackupEngine::Open(engine_options, store.env(), &raw_engine);
    if (!status.ok()) return ToAbslStatus(status, absl::StrCat("opening backup directory ", dir));
    return std::unique_ptr<rocksdb::BackupEngine>(raw_engine);
  };
  const std::string intake_dir = IntakeBackupDir(backup_dir);
  absl::StatusOr<std::unique_ptr<rocksdb::BackupEngine>> engine = open_engine(backup_dir);
  if (!engine.ok()) return engine.status();
  absl::StatusOr<std::unique_ptr<rocksdb::BackupEngine>> intake_engine = open_engine(intake_dir);
  if (!intake_engine.ok()) return intake_engine.status();
  if (absl::Status cleaned = DeleteUnpairedBackups(**engine, **intake_engine, backup_dir, store.env()); !cleaned.ok()) {
    return cleaned;
  }

  // Flushing first puts the memtables into table files, so the backup is mostly table files and
  // a restore replays little write-ahead log. The WAL files still live are copied as well, so
  // writes that reached the WAL during the flush are in the backup too.
  rocksdb::CreateBackupOptions create_options;
  create_options.flush_before_backup = true;
  // The state first, then the intake: the log only grows (but for deletions the state already
  // records), so the intake's copy holds every event the state's copy reflects, and its log
  // counter is past the state's resolver positions.
  rocksdb::BackupID backup_id = 0;
  const std::string token = NewToken();
  rocksdb::IOStatus status = (*engine)->CreateNewBackupWithMetadata(
      create_options, store.db(), absl::StrCat(kBackupMetadata, " ", token), &backup_id);
  if (!status.ok()) {
    // Remove the partial copy now rather than at the next backup.
    (*engine)->GarbageCollect().PermitUncheckedError();
    return ToAbslStatus(status, absl::StrCat("backing up the store to ", backup_dir));
  }
  rocksdb::BackupID intake_id = 0;
  status = (*intake_engine)
               ->CreateNewBackupWithMetadata(create_options, store.intake_db(),
                                             absl::StrCat(kIntakeMetadataPrefix, backup_id, " ", token), &intake_id);
  if (!status.ok()) {
    (*intake_engine)->GarbageCollect().PermitUncheckedError();
    (*engine)->DeleteBackup(backup_id).PermitUncheckedError();  // Half a pair is no backup.
    return ToAbslStatus(status, absl::StrCat("backing up the event log to ", intake_dir));
  }
  absl::StatusOr<BackupSummary> intake = VerifyWith(**intake_engine, intake_dir, intake_id);
  absl::StatusOr<BackupSummary> summary =
      intake.ok() ? VerifyWith(**engine, backup_dir, backup_id) : absl::StatusOr<BackupSummary>(intake.status());
  if (!summary.ok()) {
    // A pair that does not verify is no backup: "the latest" stays the one before it.
    (*intake_engine)->DeleteBackup(intake_id).PermitUncheckedError();
    (*engine)->DeleteBackup(backup_id).PermitUncheckedError();
    return summary.status();
  }
  summary->size_bytes += intake->size_bytes;
  summary->files += intake->files;
  summary->elapsed = Clock::now() - start;
  return *summary;
}

absl::StatusOr<BackupSummary> VerifyBackup(const std::string& backup_dir, uint32_t backup_id,
                                           std::shared_ptr<const KeyRing> keys) {
  const auto start = Clock::now();
  absl::StatusOr<WholeBackup> whole = FindWholeBackup(backup_dir, backup_id, std::move(keys));
  if (!whole.ok()) return whole.status();
  whole->summary.elapsed = Clock::now() - start;
  return whole->summary;
}

absl::StatusOr<BackupSummary> RestoreBackup(const std::string& backup_dir, const std::string& store_path,
                                            const RestoreOptions& options) {
  const auto start = Clock::now();
  absl::StatusOr<WholeBackup> whole = FindWholeBackup(backup_dir, options.backup_id, options.encryption_keys);
  if (!whole.ok()) return whole.status();
  BackupSummary* const summary = &whole->summary;

  const fs::path target = fs::absolute(fs::path(store_path)).lexically_normal();
  std::error_code error;
  const fs::file_status target_status = fs::status(target, error);
  if (fs::exists(target_status)) {
    if (!fs::is_directory(target_status)) {
      return absl::FailedPreconditionError(absl::StrCat(store_path, " exists and is not a directory"));
    }
    if (!fs::is_empty(target, error)) {
      absl::StatusOr<bool> locked = StoreIsLocked(target.string());
      if (!locked.ok()) return locked.status();
      if (*locked) {
        return absl::FailedPreconditionError(
            absl::StrCat("a running process (a server?) holds the store at ", store_path, "; stop it first"));
      }
      if (!options.force) return absl::AlreadyExistsError(absl::StrCat(store_path, " is not empty"));
    }
  }
  const fs::path parent = target.parent_path();
  fs::create_directories(parent, error);
  if (error) return FileSystemError(error, absl::StrCat("cannot create ", parent.string()));

  // Restore next to the target, on the same file system, so that moving it in is one rename.
  std::string temp_pattern = absl::StrCat(target.string(), ".restore-XXXXXX");
  if (::mkdtemp(temp_pattern.data()) == nullptr) {
    return absl::InternalError(
        absl::StrCat("cannot create a directory next to ", store_path, ": ", std::strerror(errno)));
  }
  const fs::path temp(temp_pattern);
  auto cleanup_on_error = [&](absl::Status failure) {
    std::error_code ignored;
    fs::remove_all(temp, ignored);
    return failure;
  };
  rocksdb::IOStatus status = whole->engine->RestoreDBFromBackup(rocksdb::RestoreOptions(), summary->backup_id,
                                                                temp.string(), temp.string());
  if (!status.ok()) {
    return cleanup_on_error(
        ToAbslStatus(status, absl::StrCat("restoring backup ", summary->backup_id, " from ", backup_dir)));
  }
  if (whole->intake_id != 0) {
    const std::string intake_dir = IntakeBackupDir(backup_dir);
    const std::string intake_path = (temp / "intake").string();
    status = whole->intake_engine->RestoreDBFromBackup(rocksdb::RestoreOptions(), whole->intake_id, intake_path,
                                                       intake_path);
    if (!status.ok()) {
      return cleanup_on_error(ToAbslStatus(
          status, absl::StrCat("restoring the event log of backup ", summary->backup_id, " from ", intake_dir)));
    }
  }
  {
    // Open the copy once with every column family before it replaces anything: it must be a store
    // Tessera can serve. Opening also replays the backed-up write-ahead log into table files.
    StoreOptions check;
    check.path = temp.string();
    check.block_cache_bytes = 8 << 20;
    check.encryption_keys = options.encryption_keys;
    absl::StatusOr<std::unique_ptr<Store>> restored = Store::Open(check);
    if (!restored.ok()) {
      return cleanup_on_error(
          absl::DataLossError(absl::StrCat("the restored copy of backup ", summary->backup_id,
                                           " does not open: ", restored.status().message())));
    }
    if (absl::Status closed = (*restored)->Close(); !closed.ok()) return cleanup_on_error(closed);
  }
  if (absl::Status swapped = internal::SwapIn(temp, target); !swapped.ok()) return cleanup_on_error(swapped);
  summary->elapsed = Clock::now() - start;
  return *summary;
}

absl::Status CreateCheckpoint(Store& store, const std::string& dir) {
  rocksdb::Checkpoint* raw_checkpoint = nullptr;
  rocksdb::Status status = rocksdb::Checkpoint::Create(store.db(), &raw_checkpoint);
  if (!status.ok()) return ToAbslStatus(status, "preparing a checkpoint");
  std::unique_ptr<rocksdb::Checkpoint> checkpoint(raw_checkpoint);
  // The state first, then the intake, for the reason CreateBackup gives.
  status = checkpoint->CreateCheckpoint(dir);
  if (!status.ok()) return ToAbslStatus(status, absl::StrCat("writing a checkpoint of the store to ", dir));
  status = rocksdb::Checkpoint::Create(store.intake_db(), &raw_checkpoint);
  if (!status.ok()) return ToAbslStatus(status, "preparing a checkpoint of the event log");
  checkpoint.reset(raw_checkpoint);
  status = checkpoint->CreateCheckpoint(dir + "/intake");
  return ToAbslStatus(status, absl::StrCat("writing a checkpoint of the event log to ", dir, "/intake"));
}

}  // namespace tessera::profile_store
