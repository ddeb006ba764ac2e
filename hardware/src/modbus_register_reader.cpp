#include "smiles/hardware/modbus_register_reader.h"

#include <modbus.h>
#include <poll.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <vector>

#include "smiles/core/error.h"
#include "smiles/protocol/errors.h"

namespace smiles::hardware {

using namespace smiles::protocol;  // the protocol these adapters carry

namespace {

using SteadyClock = std::chrono::steady_clock;

std::string hex16(std::uint16_t v) {
  char buf[8];
  std::snprintf(buf, sizeof buf, "0x%04X", v);
  return buf;
}

}  // namespace

struct ModbusRegisterReader::Impl {
  DtuAddress address;
  TransportOptions options;
  std::string label;
  modbus_t* ctx = nullptr;
  std::vector<std::uint8_t> buffer;
  // RTU has no transaction id: after a timeout a late answer may still come and
  // would be taken for the next request's. Wait for the line to go quiet first.
  bool drain_pending = false;

  void close() {
    if (ctx != nullptr) {
      modbus_close(ctx);
      modbus_free(ctx);
      ctx = nullptr;
    }
  }

  void connect() {
    if (address.transport == Transport::kTcp) {
      const std::string service = std::to_string(address.port);
      ctx = modbus_new_tcp_pi(address.host.c_str(), service.c_str());
    } else {
      ctx = modbus_new_rtu(address.device.c_str(), address.baud, 'N', 8, 1);
    }
    if (ctx == nullptr) {
      throw ConnectionError("cannot set up " + label + ": " + modbus_strerror(errno));
    }
    // Only used by libmodbus's connect (TCP); answers are timed by our own poll loop.
    const auto timeout_ms = options.response_timeout.count();
    modbus_set_response_timeout(ctx, static_cast<std::uint32_t>(timeout_ms / 1000),
                                static_cast<std::uint32_t>((timeout_ms % 1000) * 1000));
    if (modbus_connect(ctx) == -1) {
      const int err = errno;
      close();
      throw ConnectionError("cannot connect to " + label + ": " + modbus_strerror(err));
    }
  }

  // A late answer must not be taken for the next request's: TCP starts afresh,
  // RTU drains the line before the next request.
  void after_timeout() {
    if (address.transport == Transport::kTcp) {
      close();
    } else {
      drain_pending = true;
    }
  }

  void drain(int fd) {
    const auto give_up = SteadyClock::now() + 4 * options.response_timeout;
    std::array<std::uint8_t, 256> sink{};
    while (SteadyClock::now() < give_up) {
      pollfd pfd{fd, POLLIN, 0};
      const int ready = ::poll(&pfd, 1, static_cast<int>(options.response_timeout.count()));
      if (ready == 0) break;  // quiet for a whole response timeout
      if (ready < 0 && errno != EINTR) break;
      if (ready > 0 && ::read(fd, sink.data(), sink.size()) <= 0) break;
    }
    drain_pending = false;
  }

  RegisterPayload read(std::uint16_t start, std::uint16_t count) {
    if (ctx == nullptr) connect();
    if (address.transport == Transport::kRtu) {
      if (drain_pending) drain(modbus_get_socket(ctx));
      modbus_flush(ctx);  // discard line noise before a new request
    }
    // TCP needs no flush: the connection is closed after any error.
    const std::array<std::uint8_t, 6> request{address.unit,
                                              kReadHoldingRegistersFunction,
                                              static_cast<std::uint8_t>(start >> 8),
                                              static_cast<std::uint8_t>(start & 0xFF),
                                              static_cast<std::uint8_t>(count >> 8),
                                              static_cast<std::uint8_t>(count & 0xFF)};
    const std::string what = std::to_string(count) + " registers at " + hex16(start);
    if (modbus_send_raw_request(ctx, request.data(), static_cast<int>(request.size())) == -1) {
      const int err = errno;
      close();
      throw ConnectionError("sending request for " + what + " to " + label +
                            " failed: " + modbus_strerror(err));
    }

    const ExpectedResponse expected{address.unit, kReadHoldingRegistersFunction,
                                    std::size_t{count} * 2};
    const bool rtu = address.transport == Transport::kRtu;
    const int fd = modbus_get_socket(ctx);
    const auto deadline = SteadyClock::now() + options.response_timeout;
    buffer.clear();
    std::array<std::uint8_t, 512> chunk{};
    for (;;) {
      const auto remaining =
          std::chrono::duration_cast<std::chrono::milliseconds>(deadline - SteadyClock::now());
      auto wait = std::max(remaining, std::chrono::milliseconds{0});
      if (rtu && !buffer.empty()) wait = std::min(wait, options.byte_timeout);
      pollfd pfd{fd, POLLIN, 0};
      const int ready = ::poll(&pfd, 1, static_cast<int>(wait.count()));
      if (ready < 0) {
        if (errno == EINTR) continue;
        const int err = errno;
        close();
        throw ConnectionError("waiting for " + label + " failed: " + std::strerror(err));
      }
      if (ready == 0) {
        if (rtu && !buffer.empty()) {  // line went quiet: judge what we have as one frame
          auto parsed = parse_rtu_response(buffer, expected, /*line_idle=*/true);
          if (parsed.status == ParsedResponse::Status::kComplete) return finish(parsed, what);
          throw FrameError("garbled answer from " + label + " to " + what + ": " + parsed.error);
        }
        after_timeout();
        if (buffer.empty()) {
          throw TimeoutError("no answer from " + label + " to " + what + " within " +
                             std::to_string(options.response_timeout.count()) + " ms");
        }
        throw FrameError("truncated answer from " + label + " to " + what + ": " +
                         std::to_string(buffer.size()) + " bytes, then silence");
      }
      const ssize_t n = ::read(fd, chunk.data(), chunk.size());
      if (n == 0) {
        close();
        throw ConnectionError(label + " closed the connection while answering " + what);
      }
      if (n < 0) {
        if (errno == EINTR || errno == EAGAIN) continue;
        const int err = errno;
        close();
        throw ConnectionError("reading from " + label + " failed: " + std::strerror(err));
      }
      buffer.insert(buffer.end(), chunk.begin(), chunk.begin() + n);
      auto parsed = rtu ? parse_rtu_response(buffer, expected, /*line_idle=*/false)
                        : parse_tcp_response(buffer, expected);
      if (parsed.status == ParsedResponse::Status::kComplete) return finish(parsed, what);
      if (parsed.status == ParsedResponse::Status::kInvalid) {
        if (address.transport == Transport::kTcp) close();
        throw FrameError("garbled answer from " + label + " to " + what + ": " + parsed.error);
      }
    }
  }

  RegisterPayload finish(ParsedResponse& parsed, const std::string& what) const {
    if (parsed.exception_code != 0) throw ModbusException(parsed.exception_code, what);
    return RegisterPayload{std::move(parsed.payload), parsed.declared_byte_count};
  }

  static constexpr std::uint8_t kReadHoldingRegistersFunction = 0x03;
};

ModbusRegisterReader::ModbusRegisterReader(DtuAddress address, TransportOptions options)
    : impl_(std::make_unique<Impl>()) {
  impl_->label = format_dtu_address(address);
  impl_->address = std::move(address);
  impl_->options = options;
}

ModbusRegisterReader::~ModbusRegisterReader() { impl_->close(); }

RegisterPayload ModbusRegisterReader::read_holding_registers(std::uint16_t address,
                                                             std::uint16_t count) {
  return impl_->read(address, count);
}

void ModbusRegisterReader::reset() { impl_->close(); }

bool ModbusRegisterReader::connected() const { return impl_->ctx != nullptr; }

}  // namespace smiles::hardware
