// One full poll of a 99-port simulated DTU over loopback Modbus TCP.
// Reported: requests per cycle, wall time per cycle, and CPU time of the polling
// thread (Google Benchmark measures the calling thread only, so the in-process
// simulator's threads are not counted). Reference in the same run: plain
// libmodbus modbus_read_registers() of the same blocks, without the quirk handling.
#include <benchmark/benchmark.h>
#include <modbus.h>
#include <sys/resource.h>

#include "smiles/hardware/modbus_register_reader.h"
#include "smiles/hardware/simulator_server.h"
#include "smiles/protocol/dtu_client.h"
#include "smiles/protocol/port_block.h"

using namespace smiles;
using namespace smiles::hardware;
using namespace smiles::protocol;

namespace {

// User and system CPU of the calling thread, in ms. System time on loopback also
// carries the kernel's TCP work for both ends, so user time is the client's own.
struct ThreadCpu {
  double user_ms = 0, sys_ms = 0;
  static ThreadCpu now() {
    rusage u{};
    getrusage(RUSAGE_THREAD, &u);
    auto ms = [](const timeval& t) {
      return static_cast<double>(t.tv_sec) * 1e3 + static_cast<double>(t.tv_usec) / 1e3;
    };
    return {ms(u.ru_utime), ms(u.ru_stime)};
  }
};

void report_cpu(benchmark::State& state, const ThreadCpu& start) {
  const auto end = ThreadCpu::now();
  const auto n = static_cast<double>(state.iterations());
  state.counters["user_cpu_ms"] = (end.user_ms - start.user_ms) / n;
  state.counters["sys_cpu_ms"] = (end.sys_ms - start.sys_ms) / n;
}

SimulatorServer& simulator() {
  static SimulatorServer server(
      SimulatedDtu(layout_with_ports(99, 7), ModelOptions{WallClock::now(), 1, 15}),
      FaultOptions{});
  return server;
}

std::uint16_t simulator_port() {
  static const std::uint16_t port = [] {
    simulator().start_tcp("127.0.0.1", 0, 1);
    return simulator().tcp_port();
  }();
  return port;
}

void BM_PollFullDtuTcp(benchmark::State& state) {
  DtuAddress address{Transport::kTcp, "127.0.0.1", simulator_port(), "", 9600, 1};
  DtuClient client("bench", std::make_unique<ModbusRegisterReader>(address, TransportOptions{}),
                   DtuClientOptions{});
  client.poll();  // connect and read the DTU serial outside the measurement
  std::uint64_t requests = 0;
  std::size_t ports = 0;
  const auto cpu = ThreadCpu::now();
  for (auto _ : state) {
    const auto reading = client.poll();
    requests += client.stats().last_poll_requests;
    ports = 0;
    for (const auto& inv : reading.inverters) ports += inv.ports.size();
    benchmark::DoNotOptimize(reading);
  }
  report_cpu(state, cpu);
  state.counters["requests_per_cycle"] =
      benchmark::Counter(static_cast<double>(requests) / static_cast<double>(state.iterations()));
  state.counters["ports"] = static_cast<double>(ports);
}
BENCHMARK(BM_PollFullDtuTcp)->Unit(benchmark::kMillisecond)->MinTime(3);

// Reference: the same 100 block reads with libmodbus's own read function.
void BM_PlainLibmodbusReads(benchmark::State& state) {
  modbus_t* ctx = modbus_new_tcp("127.0.0.1", simulator_port());
  if (ctx == nullptr || modbus_connect(ctx) == -1) {
    state.SkipWithError("cannot connect to the simulator");
    return;
  }
  modbus_set_slave(ctx, 1);
  std::uint16_t regs[kPortBlockRegisters];
  const auto cpu = ThreadCpu::now();
  for (auto _ : state) {
    for (int i = 0; i < kMaxPortBlocks; ++i) {
      if (modbus_read_registers(ctx, port_block_address(i), kPortBlockRegisters, regs) == -1) {
        state.SkipWithError("read failed");
        break;
      }
      benchmark::DoNotOptimize(regs);
    }
  }
  report_cpu(state, cpu);
  state.counters["requests_per_cycle"] = kMaxPortBlocks;
  modbus_close(ctx);
  modbus_free(ctx);
}
BENCHMARK(BM_PlainLibmodbusReads)->Unit(benchmark::kMillisecond)->MinTime(3);

// The pure part of a cycle: decoding 99 blocks and grouping them.
void BM_Decode99Blocks(benchmark::State& state) {
  const SimulatedDtu dtu(layout_with_ports(99, 7), ModelOptions{WallClock::now(), 0, 15});
  std::vector<std::array<std::uint8_t, kPortBlockBytes>> raw;
  for (int i = 0; i < 99; ++i)
    raw.push_back(encode_port_block(dtu.port_block(i, WallClock::now())));
  for (auto _ : state) {
    std::vector<PortBlock> blocks;
    blocks.reserve(raw.size());
    for (const auto& b : raw) blocks.push_back(decode_port_block(b));
    benchmark::DoNotOptimize(group_port_blocks(blocks));
  }
}
BENCHMARK(BM_Decode99Blocks)->Unit(benchmark::kMicrosecond);

}  // namespace

BENCHMARK_MAIN();
