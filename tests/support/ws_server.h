// A WebSocket server for tests, standing in for the Home Assistant component's
// receiver (custom_components/hoymiles_smiles/websocket_server.py): it accepts on
// 127.0.0.1, checks ?token= like the component (a wrong token gets
// {"error": "Invalid authentication token"} and a close), greets with
// {"type":"connected","status":"ready"}, and records every text message. Optionally
// over TLS, or stalling: accepting TCP connections but never answering.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace smiles::test {

struct WsServerOptions {
  std::uint16_t port = 0;  // 0: any free port
  std::string token;       // expected ?token= (empty: any)
  std::string cert_file;   // PEM; with key_file: wss://
  std::string key_file;
  bool stall = false;  // accept TCP, never complete a handshake
  bool deaf = false;   // complete the handshake, then never read
};

class WsServer {
 public:
  explicit WsServer(WsServerOptions options);
  ~WsServer();  // stop()
  WsServer(const WsServer&) = delete;
  WsServer& operator=(const WsServer&) = delete;

  [[nodiscard]] std::uint16_t port() const;
  // Text messages received so far, in order, over all connections.
  [[nodiscard]] std::vector<std::string> messages() const;
  // Completed WebSocket handshakes (including refused tokens), and TCP accepts.
  [[nodiscard]] int handshakes() const;
  [[nodiscard]] int accepted() const;
  // Waits until `pred(messages())` holds.
  bool wait_for(const std::function<bool(const std::vector<std::string>&)>& pred,
                std::chrono::milliseconds timeout) const;
  // Closes the listener and every connection.
  void stop();

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

// A self-signed certificate for "localhost" and 127.0.0.1 (openssl CLI), written to
// `dir` as cert.pem and key.pem.
void make_test_certificate(const std::string& dir);

}  // namespace smiles::test
