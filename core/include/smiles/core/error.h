// The project's one exception root and its few actionable kinds.
// Catch at loop boundaries (one poll, one request, one import batch).
#pragma once

#include <stdexcept>
#include <string>
#include <string_view>

namespace smiles {

class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
  // Short, stable label for metrics and health output ("timeout", "frame", ...).
  [[nodiscard]] virtual std::string_view kind() const noexcept { return "error"; }
  // True when the same operation may succeed if tried again later.
  [[nodiscard]] virtual bool retryable() const noexcept { return false; }
};

// Transient I/O trouble: worth retrying, usually after a pause.
class IoError : public Error {
 public:
  using Error::Error;
  [[nodiscard]] std::string_view kind() const noexcept override { return "io"; }
  [[nodiscard]] bool retryable() const noexcept override { return true; }
};

class TimeoutError : public IoError {
 public:
  using IoError::IoError;
  [[nodiscard]] std::string_view kind() const noexcept override { return "timeout"; }
};

class ConnectionError : public IoError {
 public:
  using IoError::IoError;
  [[nodiscard]] std::string_view kind() const noexcept override { return "connection"; }
};

// Input that is malformed; retrying the same bytes will not help.
class DataError : public Error {
 public:
  using Error::Error;
  [[nodiscard]] std::string_view kind() const noexcept override { return "data"; }
};

// A setting or argument that cannot work; fix the configuration.
class ConfigError : public Error {
 public:
  using Error::Error;
  [[nodiscard]] std::string_view kind() const noexcept override { return "config"; }
};

}  // namespace smiles
