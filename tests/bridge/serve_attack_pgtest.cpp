// Attacks on a running bridge, as a hostile client, a broken configuration and a full
// disk would make them (loopback only, each bounded in time). Each test failed on the
// bridge before the hardening issue.
#include <fcntl.h>
#include <poll.h>

#include <fstream>
#include <random>
#include <set>

#include "serve_fixture.h"

namespace smiles::test {
namespace {

// One raw request on its own connection; the status code of the answer (0: none).
int raw_status(std::uint16_t port, const std::string& bytes) {
  const int s = socket(AF_INET, SOCK_STREAM, 0);
  const sockaddr_in addr = loopback_address(port);
  timeval tv{5, 0};
  setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  int status = 0;
  if (connect(s, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) == 0 &&
      send(s, bytes.data(), bytes.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(bytes.size())) {
    char buf[64] = {};
    if (recv(s, buf, sizeof buf - 1, 0) > 12 && std::string(buf, 9) == "HTTP/1.1 ") {
      status = std::atoi(buf + 9);
    }
  }
  close(s);
  return status;
}

std::string get_request(const std::string& target, const std::string& auth = "") {
  std::string r = "GET " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n";
  if (!auth.empty()) r += "Authorization: " + auth + "\r\n";
  return r + "\r\n";
}

// Series in a Prometheus text exposition: lines that are not comments.
std::size_t series_count(const std::string& text) {
  std::size_t n = 0;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) n += !line.empty() && line[0] != '#';
  return n;
}

long rss_kib(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::stol(line.substr(6));
  }
  return -1;
}

// CPU seconds (user + system) the process has used.
double cpu_seconds(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string stat((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::istringstream fields(stat.substr(stat.rfind(')') + 2));
  std::vector<std::string> f{std::istream_iterator<std::string>(fields), {}};
  return (std::stod(f.at(11)) + std::stod(f.at(12))) / static_cast<double>(sysconf(_SC_CLK_TCK));
}

std::size_t count_of(const std::string& text, const std::string& needle) {
  std::size_t n = 0;
  for (auto pos = text.find(needle); pos != std::string::npos; pos = text.find(needle, pos + 1)) {
    ++n;
  }
  return n;
}

class AttackTest : public ServeTest {
 protected:
  AttackTest() { stderr_log = data_dir() + "/serve.log"; }
};

// 5,000 distinct unknown, invalid and non-UTF-8 paths, with and without the token:
// the route label comes from a fixed set, so the series count does not move, the
// exposition stays valid for promtool, and no path gets a 500.
class LabelFloodTest : public AttackTest, public ::testing::WithParamInterface<bool> {};

TEST_P(LabelFloodTest, ThousandsOfDistinctPathsLeaveTheSeriesCountUnchanged) {
  const bool token = GetParam();
  start({"--speed", "0"},
        token ? std::vector<std::string>{"API_TOKEN=t0ken"} : std::vector<std::string>{});
  ASSERT_TRUE(wait_health(polled));
  // The first stored write adds its series (the writer counts after its commit): it
  // must be there before counting, or it lands in the middle of the flood.
  ASSERT_TRUE(wait_first_stored());
  ASSERT_TRUE(eventually_true(
      [&] { return !metric("hoymiles_database_writes_total{result=\"stored\"}").empty(); }));
  const std::string auth = token ? "Bearer t0ken" : "";
  std::mt19937 rng(11);
  auto junk = [&] { return std::to_string(rng()); };
  const std::vector<std::function<std::string()>> shapes = {
      [&] { return "/api/production/" + junk(); },
      [&] { return "/api/inverters/102100007000/" + junk(); },
      [&] { return "/api/inverters/" + junk() + "/ports/" + junk() + "/history"; },
      [&] { return "/wp-admin/" + junk() + ".php"; },
      [&] { return "/api/production/\xff" + junk(); },
      [&] { return "/%ff/" + junk() + "\xc3\x28"; },
      [&] { return "/api/inverters/\xfe\xfe" + junk() + "/history?since=\xff"; },
  };
  auto attack = [&](int n, bool with_auth) {
    std::map<int, int> statuses;
    for (int i = 0; i < n; ++i) {
      const auto target = shapes[static_cast<std::size_t>(i) % shapes.size()]();
      ++statuses[raw_status(http_port, get_request(target, with_auth ? auth : ""))];
    }
    return statuses;
  };
  // Every shape once with and without the token, so every (route, code) pair the
  // flood can produce exists before counting.
  attack(static_cast<int>(shapes.size()), true);
  attack(static_cast<int>(shapes.size()), false);
  http_get(http_port, "/metrics");  // the scrape's own series
  const auto before = http_get(http_port, "/metrics").body;
  const long rss_before = rss_kib(serve->pid());

  auto statuses = attack(2500, true);
  for (const auto& [status, n] : attack(2500, false)) statuses[status] += n;

  const auto after = http_get(http_port, "/metrics").body;
  const long rss_after = rss_kib(serve->pid());
  std::cout << "series before " << series_count(before) << ", after 5000 distinct paths "
            << series_count(after) << "; RSS " << rss_before << " KiB -> " << rss_after << " KiB\n";
  EXPECT_EQ(series_count(after), series_count(before)) << [&] {
    std::set<std::string> old_lines;
    std::istringstream in(before);
    std::string line, added;
    while (std::getline(in, line)) old_lines.insert(line.substr(0, line.rfind(' ')));
    std::istringstream now(after);
    while (std::getline(now, line)) {
      if (!line.empty() && line[0] != '#' && !old_lines.count(line.substr(0, line.rfind(' ')))) {
        added += line + "\n";
      }
    }
    return added;
  }();
  EXPECT_EQ(statuses.count(500), 0U) << "a path got 500";
  EXPECT_EQ(statuses.count(0), 0U) << "a path got no answer";
  for (const auto& [status, n] : statuses) {
    EXPECT_TRUE(status == 400 || status == 401 || status == 404) << status << " x" << n;
  }
  EXPECT_EQ(after.find('\xff'), std::string::npos);
  EXPECT_EQ(after.find("wp-admin"), std::string::npos);
  { std::ofstream(data_dir() + "/metrics.txt") << after; }
  const auto lint =
      run_command({"sh", "-c", "promtool check metrics < " + data_dir() + "/metrics.txt"});
  EXPECT_EQ(lint.exit_code, 0) << lint.out << lint.err;
}

INSTANTIATE_TEST_SUITE_P(WithAndWithoutToken, LabelFloodTest, ::testing::Bool());

// 256 idle connections, each reopened as soon as it closes: /health keeps answering
// 200, and the connections refused are counted as 503s.
TEST_F(AttackTest, AConnectionFloodDoesNotTakeHealthDown) {
  start({"--speed", "0"}, {"HTTP_MAX_CONNECTIONS=64", "HTTP_MAX_CONNECTIONS_PER_CLIENT=32"});
  ASSERT_TRUE(wait_health(polled));
  std::atomic<bool> flooding{true};
  std::thread flood([&] {
    std::vector<pollfd> fds;
    fds.reserve(256);
    for (int i = 0; i < 256; ++i) fds.push_back({open_idle_connection(http_port), POLLIN, 0});
    while (flooding) {
      ::poll(fds.data(), fds.size(), 20);
      for (auto& p : fds) {
        if (p.revents == 0) continue;
        char buf[512];
        if (recv(p.fd, buf, sizeof buf, MSG_DONTWAIT) > 0) continue;  // an answer: wait for EOF
        close(p.fd);
        p.fd = open_idle_connection(http_port);
        p.revents = 0;
      }
    }
    for (auto& p : fds) close(p.fd);
  });
  std::this_thread::sleep_for(500ms);
  int ok = 0;
  const int probes = 25;
  for (int i = 0; i < probes; ++i) {
    ok += http_get(http_port, "/health").status == 200 ? 1 : 0;
    std::this_thread::sleep_for(100ms);
  }
  flooding = false;
  flood.join();
  std::cout << ok << " of " << probes << " /health probes answered 200 during the flood\n";
  EXPECT_EQ(ok, probes);
  EXPECT_TRUE(eventually_true([&] { return http_get(http_port, "/api/inverters").status == 200; }));
  const auto metrics = http_get(http_port, "/metrics").body;
  EXPECT_NE(metrics.find("hoymiles_http_requests_total{code=\"503\",route=\"other\"}"),
            std::string::npos)
      << "refused connections are not counted";
}

// Out of file descriptors, accept fails at once for every pending connection: the
// server pauses instead of spinning, says so once, and recovers.
TEST_F(AttackTest, OutOfFileDescriptorsPausesAcceptingAndLogsOnce) {
  start({"--speed", "0"}, {"HTTP_MAX_CONNECTIONS=16"});
  ASSERT_TRUE(wait_health(polled));
  // Room for a few more descriptors only.
  std::size_t open_now = 0;
  for (const auto& e :
       std::filesystem::directory_iterator("/proc/" + std::to_string(serve->pid()) + "/fd")) {
    (void)e;
    ++open_now;
  }
  // Only the soft limit moves (the hard one stays, so the soft one can go back).
  const auto pid = std::to_string(serve->pid());
  const auto soft =
      run_command({"prlimit", "--pid", pid, "--nofile", "--output=SOFT", "--noheadings"});
  ASSERT_EQ(soft.exit_code, 0) << soft.err;
  const auto original = soft.out.substr(0, soft.out.find_first_of(" \n"));
  const auto limit = std::to_string(open_now + 4);
  ASSERT_EQ(run_command({"prlimit", "--pid", pid, "--nofile=" + limit + ":"}).exit_code, 0);
  std::vector<int> held;
  held.reserve(40);
  for (int i = 0; i < 40; ++i) held.push_back(open_idle_connection(http_port));
  std::this_thread::sleep_for(500ms);
  const double cpu_before = cpu_seconds(serve->pid());
  std::this_thread::sleep_for(2s);
  const double cpu = cpu_seconds(serve->pid()) - cpu_before;
  std::cout << "CPU while out of descriptors: " << cpu << " s in 2 s\n";
  EXPECT_LT(cpu, 0.5) << "the accept loop spins";
  for (int s : held) close(s);
  ASSERT_EQ(run_command({"prlimit", "--pid", pid, "--nofile=" + original + ":"}).exit_code, 0)
      << original;
  EXPECT_TRUE(eventually_true([&] { return http_get(http_port, "/health").status == 200; }))
      << log_text();
  const auto log = log_text();
  EXPECT_EQ(count_of(log, "cannot accept HTTP connections"), 1U) << log;
  EXPECT_LE(count_of(log, "accepting HTTP connections again"), 1U) << log;
}

// HTTP_MAX_CONNECTIONS that cannot fit in the open-file limit is refused at start.
TEST_F(AttackTest, ImpossibleConnectionLimitsAreRefused) {
  const auto r = run_command({"prlimit", "--nofile=64:64", "env", "DATABASE_URL=" + db.url(),
                              "DTU_HOST=127.0.0.1", "HTTP_MAX_CONNECTIONS=256",
                              "DATA_DIR=" + data_dir(), cli_path(), "serve"});
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_NE(r.err.find("HTTP_MAX_CONNECTIONS=256 needs up to"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("64 open files"), std::string::npos) << r.err;
}

// Malformed DATABASE_URLs: the password shows nowhere, neither when serve refuses to
// start nor in the log, /health or /metrics of a serve that started.
TEST_F(AttackTest, MalformedDatabaseUrlsNeverShowThePassword) {
  const std::string secret = "s3cr3tTail";
  const std::vector<std::string> urls = {
      "postgresql://smiles:" + secret + "%zz@127.0.0.1:1/db",      // bad percent-escape
      "postgresql://smiles:" + secret + "@[::1:1/db",              // unclosed [
      "host=127.0.0.1 port=1 user=smiles password = " + secret,    // spaces around =
      "host=127.0.0.1 port=1 password='pa " + secret + "'",        // quoted, with a space
      "host=127.0.0.1 port=1 password='" + secret,                 // unterminated quote
      "postgresql://smiles:" + secret + "@127.0.0.1:1/db?port=x",  // bad parameter
      "postgresql://smiles:" + secret + "@127.0.0.1:1/db?sslmode=" + secret,
      "host=127.0.0.1 port=1 password=" + secret + " bogus=" + secret,
  };
  for (const auto& url : urls) {
    SCOPED_TRACE(url);
    stderr_log = data_dir() + "/serve-" + std::to_string(&url - urls.data()) + ".log";
    serve_argv_ = {"env",          "DATABASE_URL=" + url,    "DTU_HOST=127.0.0.1",
                   "DTU_PORT=1",   "HEALTH_HOST=127.0.0.1",  "HEALTH_PORT=0",
                   "DB_TIMEOUT=2", "DATA_DIR=" + data_dir(), cli_path(),
                   "serve"};
    auto argv = serve_argv_;
    argv.insert(argv.begin(), {"sh", "-c", "exec \"$0\" \"$@\" 2>>" + stderr_log});
    serve = std::make_unique<ChildProcess>(argv);
    if (auto line = serve->wait_for_line("listening on http://", 15s)) {
      http_port = port_of(*line);
      const auto health = http_get(http_port, "/health");
      EXPECT_EQ(health.body.find(secret), std::string::npos) << health.body;
      EXPECT_EQ(http_get(http_port, "/metrics").body.find(secret), std::string::npos);
      serve->stop(SIGTERM);
    } else {
      EXPECT_EQ(serve->stop(SIGKILL), 2) << "neither started nor refused the setting";
    }
    const auto log = log_text();
    EXPECT_EQ(log.find(secret), std::string::npos) << log;
    const auto db_status = run_command({cli_path(), "db", "status", "--database-url", url}, 20s);
    EXPECT_EQ((db_status.out + db_status.err).find(secret), std::string::npos)
        << db_status.out << db_status.err;
    serve.reset();
  }
}

// DATA_DIR on a full disk (the spool file is /dev/full) and the database away: every
// reading the spool cannot take is counted as dropped, in /health and the metrics;
// the DTU stays online; the log says it once a minute, not once a reading.
TEST_F(AttackTest, AFullDiskCountsDropsAndLeavesTheDtuAlone) {
  std::filesystem::create_symlink("/dev/full", data_dir() + "/spool.bin");
  sim = start_simulator({"--speed", "0"}, sim_port);
  start_serve_only({"DATABASE_URL=postgresql://smiles@127.0.0.1:1/none", "DB_TIMEOUT=2",
                    "DTUS=roof=tcp://127.0.0.1:" + std::to_string(sim_port), "QUERY_PERIOD=0.2",
                    "COMM_TIMEOUT=0.5"});
  ASSERT_TRUE(wait_health([](const json& h) { return h["spool"]["dropped"] >= 5; }));
  const auto h = json::parse(http_get(http_port, "/health").body);
  EXPECT_EQ(h["dtus"]["roof"]["status"], "online");
  EXPECT_EQ(h["dtus"]["roof"]["error_count"], 0);
  EXPECT_FALSE(h["healthy"]) << "readings are being lost";
  EXPECT_NE(h["spool"]["error"].get<std::string>().find("No space left on device"),
            std::string::npos)
      << h["spool"];
  const auto metrics = http_get(http_port, "/metrics").body;
  EXPECT_NE(metrics.find("hoymiles_database_writes_total{result=\"dropped\"}"), std::string::npos);
  EXPECT_EQ(metrics.find("result=\"io\""), std::string::npos)
      << "a dropped reading counted as a poll error";
  std::this_thread::sleep_for(1s);
  serve->stop(SIGTERM);
  const auto log = log_text();
  const auto lost_lines = count_of(log, "reading(s) lost");
  EXPECT_EQ(lost_lines, 1U) << log;
  // The stop line accounts for every good poll: none stored or spooled, all dropped.
  const auto stop = stop_line(log);
  ASSERT_TRUE(stop) << log;
  EXPECT_GE(stop->polls, 5U);
  EXPECT_EQ(stop->dropped, stop->polls);
}

// Writes refused (REVOKE INSERT) while the database answers: /health says so steadily
// ("reachable, writes failing: permission denied"), the log says it once, readings
// wait in the spool, and every one arrives once the right is back.
TEST_F(AttackTest, RefusedWritesAreReportedSteadilyAndNothingIsLost) {
  const std::string role = "smiles_writer_" + std::to_string(getpid());
  db.exec("DROP ROLE IF EXISTS " + role);
  db.exec("CREATE ROLE " + role + " LOGIN");
  ASSERT_EQ(run_command({cli_path(), "db", "upgrade", "--database-url", db.url()}).exit_code, 0);
  db.exec("GRANT USAGE ON SCHEMA public TO " + role +
          "; GRANT ALL ON ALL TABLES IN SCHEMA public TO " + role +
          "; GRANT ALL ON ALL SEQUENCES IN SCHEMA public TO " + role);
  auto url = db.url();
  url.replace(url.find("://") + 3, url.find('@') - url.find("://") - 3, role);
  sim = start_simulator({"--speed", "60"}, sim_port);
  start_serve_only({"DATABASE_URL=" + url, "DTUS=roof=tcp://127.0.0.1:" + std::to_string(sim_port),
                    "QUERY_PERIOD=0.3", "COMM_TIMEOUT=0.5"});
  ASSERT_TRUE(wait_health([](const json& h) { return polled(h); }));
  db.exec("REVOKE INSERT ON port_data, inverter_data FROM " + role);
  ASSERT_TRUE(wait_health([](const json& h) { return h["database"]["writes_failing"] == true; }));
  int samples = 0;
  for (auto until = std::chrono::steady_clock::now() + 11s;
       std::chrono::steady_clock::now() < until; std::this_thread::sleep_for(250ms)) {
    const auto h = json::parse(http_get(http_port, "/health").body);
    ++samples;
    EXPECT_EQ(h["database"]["connected"], true);
    EXPECT_EQ(h["database"]["writes_failing"], true);
    const auto error = h["database"].value("error", "");
    EXPECT_NE(error.find("reachable, writes failing:"), std::string::npos) << error;
    EXPECT_NE(error.find("permission denied"), std::string::npos) << error;
  }
  EXPECT_GT(samples, 20);
  db.exec("GRANT INSERT ON port_data, inverter_data TO " + role);
  EXPECT_TRUE(wait_health(
      [](const json& h) {
        return h["database"]["writes_failing"] == false && h["spool"]["readings"] == 0;
      },
      20s));
  sim->stop(SIGKILL);  // no more polls: what was read is all there is
  EXPECT_EQ(serve->stop(SIGTERM), 0);
  const auto log = log_text();
  EXPECT_EQ(count_of(log, "writes failing"), 1U) << log;
  const auto stop = stop_line(log);
  ASSERT_TRUE(stop) << log;
  EXPECT_EQ(stop->dropped, 0U);
  EXPECT_EQ(stop->stored + stop->spooled, stop->polls);
  EXPECT_GT(stop->spooled, 20U);
  EXPECT_EQ(std::stoul(db.scalar("SELECT count(DISTINCT \"timestamp\") FROM port_data")),
            stop->polls);
  db.exec("DROP OWNED BY " + role + "; DROP ROLE " + role);
}

// A spool left from before is replayed in the background: HTTP and polling start at
// once, /health shows the spool shrinking, and every spooled reading arrives.
TEST_F(AttackTest, ASpoolFromBeforeIsReplayedWhileServing) {
  const int spooled = 6000;
  ASSERT_EQ(
      run_command({SPOOL_HELPER_PATH, data_dir() + "/spool.bin", std::to_string(spooled)}, 120s)
          .exit_code,
      0);
  sim = start_simulator({"--speed", "0"}, sim_port);
  start_serve_only({"DB_AUTO_MIGRATE=true", "DTUS=roof=tcp://127.0.0.1:" + std::to_string(sim_port),
                    "QUERY_PERIOD=0.2"});
  bool seen_waiting = false;
  std::uint64_t polls_while_waiting = 0;
  ASSERT_TRUE(wait_health(
      [&](const json& h) {
        if (h["spool"]["readings"] > 0) {
          seen_waiting = true;
          polls_while_waiting = h["dtus"]["roof"]["query_count"].get<std::uint64_t>();
        }
        return h["spool"]["readings"] == 0 && polled(h);
      },
      60s));
  EXPECT_TRUE(seen_waiting) << "HTTP answered only after the replay";
  std::cout << "polls while the spool replayed: " << polls_while_waiting << "\n";
  serve->stop(SIGTERM);
  const auto log = log_text();
  EXPECT_NE(log.find("replaying " + std::to_string(spooled) + " spooled readings"),
            std::string::npos)
      << log;
  // Polls during the replay queue behind it in the spool and are replayed with it.
  EXPECT_NE(log.find("replayed "), std::string::npos) << log;
  EXPECT_EQ(db.scalar("SELECT count(DISTINCT \"timestamp\") FROM port_data WHERE \"timestamp\" < "
                      "'2026-06-02'"),
            std::to_string(spooled));
}

// Settings that used to be taken silently or fail late.
TEST_F(AttackTest, SettingsAreCheckedBeforeAnythingConnects) {
  const std::vector<std::string> base = {"env", "DATABASE_URL=" + db.url(), "DTU_HOST=127.0.0.1",
                                         "HEALTH_PORT=0", "DATA_DIR=" + data_dir()};
  auto with = [&](std::vector<std::string> extra) {
    auto argv = base;
    argv.insert(argv.end(), extra.begin(), extra.end());
    argv.insert(argv.end(), {cli_path(), "serve"});
    return argv;
  };
  for (const char* level : {"LOG_LEVEL=garbage", "LOG_LEVEL=verbose"}) {
    const auto r = run_command(with({level}), 10s);
    EXPECT_EQ(r.exit_code, 2) << level << ": " << r.err;
    EXPECT_NE(r.err.find("LOG_LEVEL must be"), std::string::npos) << r.err;
  }
  // A host name that does not resolve: refused before the database is touched.
  const auto r = run_command(with({"HEALTH_HOST=no-such-host.invalid"}), 20s);
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_NE(r.err.find("HEALTH_HOST 'no-such-host.invalid'"), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find("database"), std::string::npos) << "connected before refusing: " << r.err;
  // Capitals and a host name that does.
  stderr_log = data_dir() + "/serve.log";
  start_serve_only({"LOG_LEVEL=INFO", "HEALTH_HOST=localhost", "DTU_HOST=127.0.0.1", "DTU_PORT=1"});
  EXPECT_EQ(http_get(http_port, "/ready").status, 503);  // answered on 127.0.0.1
  serve->stop(SIGTERM);
  EXPECT_NE(log_text().find("serving http://127.0.0.1:"), std::string::npos) << log_text();
}

// A DTU that went away: while the client backs off, last_error keeps the failure that
// started it, not "backing off ... next attempt in 0.0 s".
TEST_F(AttackTest, BackoffKeepsTheRealCauseInHealth) {
  start({"--speed", "0"}, {"COMM_RECONNECT_DELAY=1", "COMM_RECONNECT_DELAY_MAX=2"});
  ASSERT_TRUE(wait_health(polled));
  sim->stop(SIGKILL);
  ASSERT_TRUE(wait_health([](const json& h) { return h["dtus"]["roof"]["state"] == "backoff"; }));
  for (int i = 0; i < 10; ++i) {
    const auto h = json::parse(http_get(http_port, "/health").body);
    const auto error = h["dtus"]["roof"]["last_error"].get<std::string>();
    EXPECT_EQ(error.find("backing off"), std::string::npos) << error;
    std::this_thread::sleep_for(100ms);
  }
}

// RFC 7235: the scheme is case-insensitive.
TEST_F(AttackTest, BearerSchemeInAnyCase) {
  start({"--speed", "0"}, {"API_TOKEN=t0ken"});
  ASSERT_TRUE(wait_health(polled));
  for (const char* auth : {"Bearer t0ken", "bearer t0ken", "BEARER t0ken", "Bearer  t0ken"}) {
    EXPECT_EQ(http_get(http_port, "/api/inverters", {{"Authorization", auth}}).status, 200) << auth;
  }
  for (const char* auth : {"Bearer t0ke", "Basic t0ken", "Bearert0ken", "t0ken"}) {
    EXPECT_EQ(http_get(http_port, "/api/inverters", {{"Authorization", auth}}).status, 401) << auth;
  }
}

// Times outside what the timestamp type holds are refused, not wrapped around.
TEST_F(AttackTest, TimesBeyondTheRangeAre400) {
  start({"--speed", "0"});
  ASSERT_TRUE(wait_health(polled));
  const auto serial = get_json("/api/inverters").at(0)["serial_number"].get<std::string>();
  const auto history = "/api/inverters/" + serial + "/history?since=";
  for (const char* t : {"2263-01-01", "9999-12-31T00:00:00Z", "1677-01-01", "2026-06-01T12:-1Z",
                        "2026-06-01T-1:00Z", "2026-+6-01", "2026-06-01T00:-5Z"}) {
    const auto r = http_get(http_port, history + t);
    EXPECT_EQ(r.status, 400) << t << ": " << r.body;
  }
  EXPECT_EQ(http_get(http_port, history + "2261-12-31").status, 200);
  EXPECT_EQ(http_get(http_port, history + "1900-01-01").status, 200);
}

}  // namespace
}  // namespace smiles::test
