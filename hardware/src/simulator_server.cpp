#include "smiles/hardware/simulator_server.h"

#include <modbus.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <list>
#include <mutex>
#include <thread>
#include <vector>

#include "smiles/core/error.h"
#include "smiles/protocol/modbus_frame.h"

namespace smiles::hardware {

using namespace smiles::protocol;  // the protocol these adapters carry

namespace {

constexpr int kPollMs = 50;  // how quickly threads notice stop()

bool write_all(int fd, const std::vector<std::uint8_t>& bytes, bool socket) {
  std::size_t sent = 0;
  while (sent < bytes.size()) {
    const ssize_t n = socket ? ::send(fd, bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL)
                             : ::write(fd, bytes.data() + sent, bytes.size() - sent);
    if (n < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    sent += static_cast<std::size_t>(n);
  }
  return true;
}

// Waits for input on fd; false when stopping or on error/hang-up.
bool wait_readable(int fd, const std::atomic<bool>& stopping, bool& readable) {
  pollfd pfd{fd, POLLIN, 0};
  const int r = ::poll(&pfd, 1, kPollMs);
  if (stopping) return false;
  if (r < 0) return errno == EINTR;
  readable = r > 0 && (pfd.revents & POLLIN) != 0;
  if (r > 0 && !readable) return false;  // POLLHUP / POLLERR without data
  return true;
}

}  // namespace

struct SimulatorServer::Impl {
  explicit Impl(SimulatedDtu d, FaultOptions f) : dtu(std::move(d)), faults(f) {}

  SimulatedDtu dtu;
  mutable std::mutex mutex;  // guards faults, counters
  FaultOptions faults;
  FaultCounters counters;
  std::atomic<bool> stopping{false};
  std::atomic<std::uint64_t> requests{0}, answers{0}, injected{0}, connections{0};

  modbus_t* listen_ctx = nullptr;
  int listen_fd = -1;
  std::uint16_t port = 0;
  std::uint8_t tcp_unit = 1;
  std::thread accept_thread;
  struct Connection {
    std::thread thread;
    std::atomic<bool> done{false};
  };
  std::list<Connection> connection_threads;  // only touched by the accept thread and stop()

  modbus_t* rtu_ctx = nullptr;
  std::thread rtu_thread;

  ResponsePlan plan(const ServedRequest& request) {
    std::lock_guard lock(mutex);
    const Timestamp t = dtu.sim_time(WallClock::now());
    return plan_response(dtu, faults, counters, request, t);
  }

  void sleep_interruptibly(std::chrono::milliseconds delay) const {
    const auto until = std::chrono::steady_clock::now() + delay;
    while (!stopping && std::chrono::steady_clock::now() < until) {
      std::this_thread::sleep_for(std::min(delay, std::chrono::milliseconds{kPollMs}));
    }
  }

  // Answers one request; false means the connection must be closed.
  bool serve(modbus_t* ctx, const std::uint8_t* req, int length, Transport transport,
             std::uint8_t unit) {
    const int h = modbus_get_header_length(ctx);
    if (length < h + 5) return true;  // too short to be a read request; libmodbus checked CRC
    ++requests;
    ServedRequest request;
    request.function = req[h];
    request.address = static_cast<std::uint16_t>((req[h + 1] << 8) | req[h + 2]);
    request.count = static_cast<std::uint16_t>((req[h + 3] << 8) | req[h + 4]);
    const std::uint8_t req_unit = req[h - 1];
    const int fd = modbus_get_socket(ctx);
    const bool tcp = transport == Transport::kTcp;
    const auto tid = static_cast<std::uint16_t>(tcp ? (req[0] << 8) | req[1] : 0);

    ResponsePlan p;
    if (tcp && req_unit != unit) {
      p.pdu = exception_pdu(request.function, 0x0B);  // as a gateway does for an unknown unit
    } else {
      p = plan(request);
    }
    if (p.fault != nullptr) ++injected;
    sleep_interruptibly(p.delay);
    if (stopping) return false;
    switch (p.action) {
      case ResponsePlan::Action::kNoAnswer:
        return true;
      case ResponsePlan::Action::kDrop:
        return !tcp;  // RTU: behaves as silence
      case ResponsePlan::Action::kGarbage: {
        auto adu = tcp ? tcp_adu(tid, req_unit, p.pdu) : rtu_adu(req_unit, p.pdu);
        if (tcp) {
          adu.resize(5);  // truncated MBAP header; the rest never comes
        } else {
          adu.back() ^= 0xFF;  // corrupt CRC
        }
        return write_all(fd, adu, tcp);
      }
      case ResponsePlan::Action::kAnswer: {
        const auto adu = tcp ? tcp_adu(tid, req_unit, p.pdu) : rtu_adu(req_unit, p.pdu);
        ++answers;
        return write_all(fd, adu, tcp);
      }
    }
    return true;
  }

  void serve_tcp_connection(int fd, std::atomic<bool>& done) {
    modbus_t* ctx = modbus_new_tcp_pi("127.0.0.1", "502");  // only a framing context
    if (ctx == nullptr) {
      ::close(fd);
      done = true;
      return;
    }
    modbus_set_socket(ctx, fd);
    std::vector<std::uint8_t> req(MODBUS_TCP_MAX_ADU_LENGTH);
    for (;;) {
      bool readable = false;
      if (!wait_readable(fd, stopping, readable)) break;
      if (!readable) continue;
      const int rc = modbus_receive(ctx, req.data());
      if (rc < 0) break;  // peer closed or sent something that is not Modbus TCP
      if (rc == 0) continue;
      if (!serve(ctx, req.data(), rc, Transport::kTcp, tcp_unit)) break;
    }
    modbus_close(ctx);  // closes fd
    modbus_free(ctx);
    done = true;
  }

  void accept_loop() {
    for (;;) {
      bool readable = false;
      if (!wait_readable(listen_fd, stopping, readable)) {
        if (stopping) break;
        continue;
      }
      for (auto it = connection_threads.begin(); it != connection_threads.end();) {
        if (it->done) {
          it->thread.join();
          it = connection_threads.erase(it);
        } else {
          ++it;
        }
      }
      if (!readable) continue;
      const int fd = ::accept4(listen_fd, nullptr, nullptr, SOCK_CLOEXEC);
      if (fd < 0) continue;
      ++connections;
      auto& conn = connection_threads.emplace_back();
      conn.thread = std::thread([this, fd, &conn] { serve_tcp_connection(fd, conn.done); });
    }
    for (auto& conn : connection_threads) conn.thread.join();
    connection_threads.clear();
  }

  void rtu_loop(std::uint8_t unit) {
    const int fd = modbus_get_socket(rtu_ctx);
    std::vector<std::uint8_t> req(MODBUS_RTU_MAX_ADU_LENGTH);
    for (;;) {
      bool readable = false;
      if (!wait_readable(fd, stopping, readable)) {
        if (stopping) break;
        std::this_thread::sleep_for(std::chrono::milliseconds{kPollMs});  // e.g. pty peer gone
        continue;
      }
      if (!readable) continue;
      const int rc = modbus_receive(rtu_ctx, req.data());
      if (rc < 0) {  // bad CRC, timeout inside a frame: discard and listen again
        modbus_flush(rtu_ctx);
        continue;
      }
      if (rc == 0) continue;  // addressed to another unit
      serve(rtu_ctx, req.data(), rc, Transport::kRtu, unit);
    }
  }
};

SimulatorServer::SimulatorServer(SimulatedDtu dtu, FaultOptions faults)
    : impl_(std::make_unique<Impl>(std::move(dtu), faults)) {}

SimulatorServer::~SimulatorServer() { stop(); }

void SimulatorServer::start_tcp(const std::string& host, std::uint16_t port, std::uint8_t unit) {
  if (impl_->listen_ctx != nullptr) throw ConfigError("TCP server already started");
  const std::string service = std::to_string(port);
  impl_->listen_ctx = modbus_new_tcp_pi(host.c_str(), service.c_str());
  if (impl_->listen_ctx == nullptr) {
    throw ConfigError("cannot set up TCP server on " + host + ":" + service + ": " +
                      modbus_strerror(errno));
  }
  impl_->listen_fd = modbus_tcp_pi_listen(impl_->listen_ctx, 16);
  if (impl_->listen_fd < 0) {
    const int err = errno;
    modbus_free(impl_->listen_ctx);
    impl_->listen_ctx = nullptr;
    throw ConnectionError("cannot listen on " + host + ":" + service + ": " + modbus_strerror(err));
  }
  sockaddr_storage addr{};
  socklen_t len = sizeof addr;
  ::getsockname(impl_->listen_fd, reinterpret_cast<sockaddr*>(&addr), &len);
  impl_->port = ntohs(addr.ss_family == AF_INET6 ? reinterpret_cast<sockaddr_in6*>(&addr)->sin6_port
                                                 : reinterpret_cast<sockaddr_in*>(&addr)->sin_port);
  impl_->tcp_unit = unit;
  impl_->accept_thread = std::thread([this] { impl_->accept_loop(); });
}

void SimulatorServer::start_rtu(const std::string& device, int baud, std::uint8_t unit) {
  if (impl_->rtu_ctx != nullptr) throw ConfigError("RTU server already started");
  if (unit < 1 || unit > 247) throw ConfigError("RTU unit id must be 1..247 for the simulator");
  modbus_t* ctx = modbus_new_rtu(device.c_str(), baud, 'N', 8, 1);
  if (ctx == nullptr) {
    throw ConfigError("cannot set up RTU server on " + device + ": " + modbus_strerror(errno));
  }
  modbus_set_slave(ctx, unit);
  if (modbus_connect(ctx) == -1) {
    const int err = errno;
    modbus_free(ctx);
    throw ConnectionError("cannot open " + device + ": " + modbus_strerror(err));
  }
  impl_->rtu_ctx = ctx;
  impl_->rtu_thread = std::thread([this, unit] { impl_->rtu_loop(unit); });
}

void SimulatorServer::stop() {
  impl_->stopping = true;
  if (impl_->accept_thread.joinable()) impl_->accept_thread.join();
  if (impl_->rtu_thread.joinable()) impl_->rtu_thread.join();
  if (impl_->listen_ctx != nullptr) {
    ::close(impl_->listen_fd);
    modbus_free(impl_->listen_ctx);
    impl_->listen_ctx = nullptr;
  }
  if (impl_->rtu_ctx != nullptr) {
    modbus_close(impl_->rtu_ctx);
    modbus_free(impl_->rtu_ctx);
    impl_->rtu_ctx = nullptr;
  }
}

std::uint16_t SimulatorServer::tcp_port() const { return impl_->port; }

void SimulatorServer::set_faults(const FaultOptions& faults) {
  std::lock_guard lock(impl_->mutex);
  impl_->faults = faults;
  impl_->counters = {};
}

FaultOptions SimulatorServer::faults() const {
  std::lock_guard lock(impl_->mutex);
  return impl_->faults;
}

SimulatorStats SimulatorServer::stats() const {
  return {impl_->requests.load(), impl_->answers.load(), impl_->injected.load(),
          impl_->connections.load()};
}

const SimulatedDtu& SimulatorServer::dtu() const { return impl_->dtu; }

}  // namespace smiles::hardware
