// The hoymiles-smiles executable as users run it: simulate + probe as processes.
#include <gtest/gtest.h>
#include <signal.h>

#include <nlohmann/json.hpp>

#include "process.h"

namespace smiles::test {
namespace {

using namespace std::chrono_literals;

// Starts `hoymiles-smiles simulate` with `args` and returns the address it listens on.
std::string start_simulator(ChildProcess& sim) {
  auto line = sim.wait_for_line("listening on ", 10s);
  if (!line) throw std::runtime_error("simulator did not start");
  return line->substr(line->find("listening on ") + 13);
}

std::vector<std::string> simulate(std::vector<std::string> extra) {
  std::vector<std::string> argv = {cli_path(), "simulate", "--start-time", "2026-06-01T12:00:00Z",
                                   "--speed",  "0"};
  argv.insert(argv.end(), extra.begin(), extra.end());
  return argv;
}

// LOG_LEVEL and LOG_FORMAT as the Python bridge's compose file sets them.
TEST(Cli, ThePythonBridgesLoggingSettingsWork) {
  ChildProcess sim(simulate({"--tcp", "127.0.0.1:0"}));
  const auto address = start_simulator(sim);
  auto r = run_command({"env", "LOG_LEVEL=DEBUG", "LOG_FORMAT=standard", cli_path(), "probe",
                        "--dtu", "tcp://" + address.substr(address.find("://") + 3)});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("debug"), std::string::npos) << r.err;  // DEBUG means debug, not off
  r = run_command({"env", "LOG_LEVEL=chatty", cli_path(), "probe", "--dtu", "tcp://127.0.0.1:1"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("LOG_LEVEL"), std::string::npos) << r.err;
}

TEST(Cli, HelpAndVersion) {
  auto r = run_command({cli_path(), "--help"});
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_NE(r.out.find("simulate"), std::string::npos);
  EXPECT_NE(r.out.find("probe"), std::string::npos);
  r = run_command({cli_path(), "--version"});
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_NE(r.out.find("hoymiles-smiles 0."), std::string::npos);
  r = run_command({cli_path(), "probe", "--help"});
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_NE(r.out.find("--dtu"), std::string::npos);
  EXPECT_NE(r.out.find("Exit codes"), std::string::npos);
  r = run_command({cli_path(), "simulate", "--help"});
  EXPECT_NE(r.out.find("--wrong-byte-count"), std::string::npos);
}

TEST(Cli, UsageErrorsExitWithTwo) {
  EXPECT_EQ(run_command({cli_path()}).exit_code, 2);
  EXPECT_EQ(run_command({cli_path(), "probe"}).exit_code, 2);  // --dtu required
  auto r = run_command({cli_path(), "probe", "--dtu", "192.168.1.5"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("missing scheme"), std::string::npos);
  r = run_command({cli_path(), "simulate", "--layout", "HMT:3"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("HMT inverters have 4/6 ports"), std::string::npos);
}

TEST(Cli, ProbeJsonOverTcp) {
  ChildProcess sim(simulate({"--tcp", "127.0.0.1:0", "--layout", "MI:2,HM:1,HMT:6"}));
  const auto address = start_simulator(sim);
  auto r = run_command({cli_path(), "probe", "--dtu", address, "--json", "--name", "garage"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto doc = nlohmann::json::parse(r.out);
  EXPECT_EQ(doc["dtu_name"], "garage");
  EXPECT_EQ(doc["dtu_serial"].get<std::string>().size(), 12U);
  ASSERT_EQ(doc["inverters"].size(), 3U);
  EXPECT_EQ(doc["inverters"][0]["inverter_type"], "MI");
  EXPECT_EQ(doc["inverters"][2]["inverter_type"], "HMT");
  EXPECT_EQ(doc["inverters"][2]["ports"].size(), 6U);
  EXPECT_TRUE(doc["inverters"][0]["ports"][0]["pv_power"].is_number());
  EXPECT_GT(doc["inverters"][0]["ports"][0]["pv_power"].get<double>(), 0);  // noon
  EXPECT_TRUE(doc["totals"]["total_wh"].is_number());
  EXPECT_EQ(sim.stop(SIGTERM), 0);
}

TEST(Cli, ProbeTableOverRtu) {
  PtyPair pty;
  ChildProcess sim(simulate({"--rtu", pty.dtu_end(), "--rtu-unit", "101", "--inverters", "3"}));
  start_simulator(sim);
  auto r = run_command(
      {cli_path(), "probe", "--dtu", "rtu://" + pty.client_end() + "?baud=9600&unit=101"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("3 inverters"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("Plant:"), std::string::npos);
  EXPECT_EQ(sim.stop(SIGINT), 0);
}

TEST(Cli, ProbeExitCodesNameTheProblem) {
  {  // nothing listening
    ChildProcess sim(simulate({"--tcp", "127.0.0.1:0"}));
    const auto address = start_simulator(sim);
    sim.stop(SIGTERM);
    auto r = run_command({cli_path(), "probe", "--dtu", address, "--retries", "0"});
    EXPECT_EQ(r.exit_code, 3);
    EXPECT_NE(r.err.find("cannot connect"), std::string::npos) << r.err;
  }
  {  // not mapped yet
    ChildProcess sim(simulate({"--tcp", "127.0.0.1:0", "--not-mapped-polls", "5"}));
    const auto address = start_simulator(sim);
    auto r = run_command({cli_path(), "probe", "--dtu", address});
    EXPECT_EQ(r.exit_code, 4);
    EXPECT_NE(r.err.find("not mapped"), std::string::npos) << r.err;
  }
  {  // protocol: illegal address on every request
    ChildProcess sim(
        simulate({"--tcp", "127.0.0.1:0", "--exception-every", "1", "--exception-code", "2"}));
    const auto address = start_simulator(sim);
    auto r = run_command({cli_path(), "probe", "--dtu", address});
    EXPECT_EQ(r.exit_code, 5);
    EXPECT_NE(r.err.find("illegal data address"), std::string::npos) << r.err;
  }
  {  // silent DTU
    ChildProcess sim(simulate({"--tcp", "127.0.0.1:0", "--no-answer-every", "1"}));
    const auto address = start_simulator(sim);
    auto r = run_command(
        {cli_path(), "probe", "--dtu", address, "--timeout-ms", "100", "--retries", "1"});
    EXPECT_EQ(r.exit_code, 3);
    EXPECT_NE(r.err.find("no answer"), std::string::npos) << r.err;
  }
}

TEST(Cli, FaultFlagsReachTheWire) {
  ChildProcess sim(
      simulate({"--tcp", "127.0.0.1:0", "--wrong-byte-count", "255", "--zero-blocks"}));
  const auto address = start_simulator(sim);
  auto r = run_command({cli_path(), "probe", "--dtu", address, "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto doc = nlohmann::json::parse(r.out);
  EXPECT_EQ(doc["retries"], 0);
  EXPECT_EQ(doc["inverters"][0]["ports"][0]["total_production"], 0);
  EXPECT_EQ(doc["inverters"][0]["link_status"], 0);
}

}  // namespace
}  // namespace smiles::test
