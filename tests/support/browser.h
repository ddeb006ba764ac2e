// Test support: headless Chromium (Debian's `chromium`) driven over the DevTools
// protocol (a WebSocket on loopback), to test pages as a person sees them: evaluate
// JavaScript in the page, collect console errors and network requests, save
// screenshots.
#pragma once

#include <chrono>
#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "process.h"
#include "temp_dir.h"

namespace smiles::test {

class Browser {
 public:
  // Starts chromium with a private profile and connects to its first page. Throws
  // std::runtime_error when chromium is missing or does not start.
  Browser(int width, int height);
  ~Browser();
  Browser(const Browser&) = delete;
  Browser& operator=(const Browser&) = delete;

  // A DevTools command; its result (throws on an error answer or after 30 s).
  nlohmann::json call(const std::string& method, nlohmann::json params = nlohmann::json::object());
  // Makes the page a phone's (or a desktop's) viewport of width x height CSS pixels.
  void emulate(int width, int height, bool mobile);
  // Loads `url` and waits for its load event.
  void navigate(const std::string& url);
  // The value of a JavaScript expression (promises awaited).
  nlohmann::json eval(const std::string& expression);
  // Evaluates `expression` until it is true (or the timeout ends); returns the last value.
  bool wait_for(const std::string& expression, std::chrono::seconds timeout);
  void screenshot(const std::filesystem::path& png);
  // Console errors, uncaught exceptions and failed loads seen so far, as text.
  [[nodiscard]] std::vector<std::string> errors();
  // URLs of every request the page made so far.
  [[nodiscard]] std::vector<std::string> requests();

 private:
  void pump(std::chrono::milliseconds budget);  // reads events for a while
  void note(const nlohmann::json& event);
  struct Socket;

  TempDir profile_{"smiles-chromium"};
  std::unique_ptr<ChildProcess> process_;
  std::unique_ptr<Socket> ws_;
  int next_id_ = 1;
  std::vector<std::string> errors_;
  std::vector<std::string> requests_;
};

}  // namespace smiles::test
