// Test support: child processes with captured output, and a socat pty pair.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "temp_dir.h"

namespace smiles::test {

struct CommandResult {
  int exit_code = -1;  // -1 when killed by a signal or timed out
  std::string out;
  std::string err;
};

// Runs argv to completion (killed after `timeout`), capturing stdout and stderr.
CommandResult run_command(const std::vector<std::string>& argv,
                          std::chrono::milliseconds timeout = std::chrono::seconds{30});

// A background process whose stdout can be read line by line.
class ChildProcess {
 public:
  explicit ChildProcess(const std::vector<std::string>& argv);
  ~ChildProcess();
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  // Next stdout line containing `needle`, or nullopt on timeout / EOF.
  std::optional<std::string> wait_for_line(const std::string& needle,
                                           std::chrono::milliseconds timeout);
  // Sends `sig` and waits; returns the exit code (or -signal).
  int stop(int sig);
  [[nodiscard]] pid_t pid() const { return pid_; }

 private:
  pid_t pid_ = -1;
  int out_fd_ = -1;
  std::string pending_;
  bool reaped_ = false;
  int status_ = 0;
};

// A connected pair of pseudo-terminals made by socat (a null-modem cable).
class PtyPair {
 public:
  PtyPair();  // throws std::runtime_error when socat is missing or fails
  ~PtyPair();
  [[nodiscard]] const std::string& dtu_end() const { return dtu_; }
  [[nodiscard]] const std::string& client_end() const { return client_; }

 private:
  TempDir dir_{"smiles-pty"};
  std::string dtu_;
  std::string client_;
  std::optional<ChildProcess> socat_;
};

// Path of the hoymiles-smiles binary under test (set by CMake).
std::string cli_path();

}  // namespace smiles::test
