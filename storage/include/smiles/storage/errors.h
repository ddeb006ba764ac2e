// Storage error kinds, rooted in smiles::Error.
#pragma once

#include "smiles/core/error.h"

namespace smiles::storage {

// The database cannot be reached or the connection broke: readings go to the spool.
class DatabaseUnavailable : public IoError {
 public:
  using IoError::IoError;
  [[nodiscard]] std::string_view kind() const noexcept override { return "database_unavailable"; }
};

// No pooled connection became free before the deadline.
class PoolTimeout : public IoError {
 public:
  using IoError::IoError;
  [[nodiscard]] std::string_view kind() const noexcept override { return "pool_timeout"; }
};

// The schema is not what this binary expects (checksum mismatch, newer version,
// failed migration). Needs an operator, never retried automatically.
class SchemaError : public Error {
 public:
  using Error::Error;
  [[nodiscard]] std::string_view kind() const noexcept override { return "schema"; }
};

// The database rejected a statement for a reason other than connectivity.
class StorageError : public Error {
 public:
  using Error::Error;
  [[nodiscard]] std::string_view kind() const noexcept override { return "storage"; }
};

// An import source was refused before anything was written: not SQLite, not a
// known bridge database, locked, truncated or damaged.
class SourceRefused : public DataError {
 public:
  using DataError::DataError;
  [[nodiscard]] std::string_view kind() const noexcept override { return "source_refused"; }
};

}  // namespace smiles::storage
