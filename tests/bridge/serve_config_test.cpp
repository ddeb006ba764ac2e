#include "serve_config.h"

#include <gtest/gtest.h>

#include <map>

#include "logging.h"
#include "smiles/core/error.h"
#include "smiles/storage/database_config.h"

namespace smiles::bridge {
namespace {

// env: variables; flags: overrides, as the serve command passes them.
ServeConfig parse(std::map<std::string, std::string> env,
                  std::map<std::string, std::string> flags = {}) {
  return serve_config_from(
      [&](const Setting& s) -> std::optional<std::pair<std::string, std::string>> {
        if (auto it = flags.find(std::string(s.flag)); it != flags.end())
          return std::make_pair(it->second, it->first);
        if (auto it = env.find(std::string(s.env)); it != env.end())
          return std::make_pair(it->second, it->first);
        return std::nullopt;
      });
}

std::string error_of(std::map<std::string, std::string> env,
                     std::map<std::string, std::string> flags = {}) {
  try {
    parse(std::move(env), std::move(flags));
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "accepted";
}

TEST(ServeConfig, OneTcpDtuWithDefaults) {
  const auto c = parse({{"DTU_HOST", "192.168.1.50"}});
  ASSERT_EQ(c.dtus.size(), 1U);
  EXPECT_EQ(c.dtus[0].name, "DTU");  // as the Python bridge named it; its component looks it up
  EXPECT_EQ(c.dtus[0].address.port, 502);
  EXPECT_EQ(c.dtus[0].address.unit, 1);
  EXPECT_EQ(c.query_period, std::chrono::seconds{60});
  EXPECT_EQ(c.http_port, 8080);
  EXPECT_EQ(c.transport.response_timeout, std::chrono::seconds{3});
  EXPECT_EQ(c.database.pool_size, 5);
  EXPECT_EQ(c.production.timezone, "UTC");
  EXPECT_FALSE(c.auto_migrate);
  EXPECT_EQ(c.cors_origin, "*");
}

// The environment of the Python bridge's docker-compose.yml (Studio729/hoymiles-mqtt),
// with its defaults, works unchanged: a user keeps their .env.
TEST(ServeConfig, ThePythonBridgesComposeEnvironmentIsAccepted) {
  const auto c = parse({{"DB_TYPE", "postgres"},
                        {"DB_HOST", "postgres"},
                        {"DB_PORT", "5432"},
                        {"DB_NAME", "hoymiles"},
                        {"DB_USER", "hoymiles"},
                        {"DB_PASSWORD", "hoymiles_password"},
                        {"DB_POOL_SIZE", "10"},
                        {"DB_MAX_OVERFLOW", "20"},
                        {"DTU_HOST", "192.168.1.100"},
                        {"DTU_PORT", "502"},
                        {"MODBUS_UNIT_ID", "1"},
                        {"COMM_TIMEOUT", "3"},
                        {"COMM_RETRIES", "3"},
                        {"COMM_RECONNECT_DELAY", "0"},
                        {"COMM_RECONNECT_DELAY_MAX", "300"},
                        {"QUERY_PERIOD", "60"},
                        {"RESET_HOUR", "23"},
                        {"TIMEZONE", "UTC"},
                        {"HEALTH_HOST", "0.0.0.0"},
                        {"HEALTH_PORT", "8080"}});
  ASSERT_EQ(c.dtus.size(), 1U);
  EXPECT_EQ(c.dtus[0].name, "DTU");
  EXPECT_EQ(c.database.pool_size, 10);
  EXPECT_EQ(c.client.retries, 3);
  EXPECT_EQ(c.production.reset_hour, 23);
  EXPECT_EQ(parse({{"DTU_HOST", "h"}, {"DB_TYPE", "PostgreSQL"}}).database.host, "localhost");
  const auto refused = error_of({{"DTU_HOST", "h"}, {"DB_TYPE", "mysql"}});
  EXPECT_NE(refused.find("DB_TYPE is 'mysql'"), std::string::npos) << refused;
  EXPECT_NE(refused.find("PostgreSQL only"), std::string::npos) << refused;
}

TEST(Logging, ThePythonBridgesLevelNamesWork) {
  EXPECT_EQ(parse_log_level("INFO"), spdlog::level::info);
  EXPECT_EQ(parse_log_level("WARNING"), spdlog::level::warn);
  EXPECT_EQ(parse_log_level("CRITICAL"), spdlog::level::critical);
  EXPECT_EQ(parse_log_level("debug"), spdlog::level::debug);
  EXPECT_THROW(parse_log_level("verbose"), ConfigError);
}

TEST(ServeConfig, CorsOriginCanBeChangedOrTurnedOff) {
  EXPECT_EQ(parse({{"DTU_HOST", "h"}, {"CORS_ALLOW_ORIGIN", "https://ha.local"}}).cors_origin,
            "https://ha.local");
  EXPECT_EQ(parse({{"DTU_HOST", "h"}, {"CORS_ALLOW_ORIGIN", ""}}).cors_origin, "");
  EXPECT_NE(error_of({{"DTU_HOST", "h"}, {"CORS_ALLOW_ORIGIN", "a\r\nSet-Cookie: x"}})
                .find("CORS_ALLOW_ORIGIN"),
            std::string::npos);
}

TEST(ServeConfig, RtuAndNamedListsCombine) {
  const auto c =
      parse({{"DTU_SERIAL_PORT", "/dev/ttyUSB0"},
             {"DTU_BAUD", "19200"},
             {"DTUS", "roof=tcp://10.0.0.5?unit=3, garage=rtu:///dev/ttyUSB1 tcp://10.0.0.9"}});
  ASSERT_EQ(c.dtus.size(), 4U);
  EXPECT_EQ(c.dtus[0].name, "roof");
  EXPECT_EQ(c.dtus[0].address.unit, 3);
  EXPECT_EQ(c.dtus[1].name, "garage");
  EXPECT_EQ(c.dtus[2].name, "10_0_0_9");
  EXPECT_EQ(c.dtus[3].name, "DTU");
  EXPECT_EQ(c.dtus[3].address.baud, 19200);
  EXPECT_EQ(c.dtus[3].address.unit, 101);
}

TEST(ServeConfig, FlagsOverrideVariables) {
  const auto c = parse({{"DTU_HOST", "a"}, {"QUERY_PERIOD", "30"}, {"COMM_TIMEOUT", "1.5"}},
                       {{"--query-period", "5"}, {"--health-port", "9000"}});
  EXPECT_EQ(c.query_period, std::chrono::seconds{5});
  EXPECT_EQ(c.http_port, 9000);
  EXPECT_EQ(c.transport.response_timeout, std::chrono::milliseconds{1500});
}

TEST(ServeConfig, BadValuesNameTheirSource) {
  EXPECT_NE(error_of({{"DTU_HOST", "a"}, {"QUERY_PERIOD", "soon"}}).find("QUERY_PERIOD"),
            std::string::npos);
  EXPECT_NE(error_of({{"DTU_HOST", "a"}}, {{"--query-period", "-1"}}).find("--query-period"),
            std::string::npos);
  EXPECT_NE(error_of({{"DTU_HOST", "a"}, {"DB_PORT", "99999"}}).find("DB_PORT"), std::string::npos);
  EXPECT_NE(error_of({{"DTU_HOST", "a"}, {"DB_AUTO_MIGRATE", "maybe"}}).find("true or false"),
            std::string::npos);
  EXPECT_NE(error_of({{"DTUS", "roof=http://x"}}).find("DTUS"), std::string::npos);
  EXPECT_NE(error_of({{"DTUS", "a=tcp://x a=tcp://y"}}).find("used twice"), std::string::npos);
  EXPECT_NE(error_of({}).find("no DTU configured"), std::string::npos);
  EXPECT_NE(error_of({{"DTU_HOST", "a"}, {"PROTECT_ALL", "true"}}).find("API_TOKEN"),
            std::string::npos);
  EXPECT_NE(
      error_of(
          {{"DTU_HOST", "a"}, {"COMM_RECONNECT_DELAY", "10"}, {"COMM_RECONNECT_DELAY_MAX", "5"}})
          .find("COMM_RECONNECT_DELAY_MAX"),
      std::string::npos);
}

// Where a configured secret could come back out: the database's description, logged
// on every change of its state, and the refusal of a connection string libpq cannot
// read (serve exits 2 with it).
TEST(ServeConfig, SecretsAreNeverEchoed) {
  const std::string secret = "hunter2-s3cret";
  const std::vector<std::map<std::string, std::string>> cases = {
      {{"DTU_HOST", "a"}, {"DB_PASSWORD", secret}},
      {{"DTU_HOST", "a"}, {"DATABASE_URL", "postgresql://bridge:" + secret + "@db:5432/x"}},
      {{"DTU_HOST", "a"}, {"DATABASE_URL", "host=db user=bridge password=" + secret}},
      {{"DTU_HOST", "a"}, {"DATABASE_URL", "host=db password = '" + secret}},  // unterminated
      {{"DTU_HOST", "a"}, {"DATABASE_URL", "postgresql://bridge:" + secret + "@db/x?bogus=1"}},
  };
  int refused = 0;
  for (const auto& env : cases) {
    const auto config = parse(env);
    const auto described = storage::describe(config.database);
    EXPECT_EQ(described.find(secret), std::string::npos) << described;
    try {
      storage::validate_conninfo(config.database);
    } catch (const ConfigError& e) {
      ++refused;
      EXPECT_EQ(std::string(e.what()).find(secret), std::string::npos) << e.what();
    }
  }
  EXPECT_EQ(refused, 2);  // the unterminated quote and the unknown parameter
}

// INFLUXDB_* as the Python bridge read them (hoymiles_smiles/config.py: off by default,
// database "hoymiles", a host that must start with http:// or https://, checked even
// while the output is off).
TEST(ServeConfig, InfluxDbSettings) {
  EXPECT_FALSE(parse({{"DTU_HOST", "a"}}).influx);
  EXPECT_FALSE(parse({{"DTU_HOST", "a"}, {"INFLUXDB_HOST", "http://influx:8086"}}).influx);
  const auto on = parse({{"DTU_HOST", "a"},
                         {"INFLUXDB_ENABLED", "true"},
                         {"INFLUXDB_HOST", "https://influx.example.com"},
                         {"INFLUXDB_TOKEN", "t0k"},
                         {"INFLUXDB_ORG", "home"}})
                      .influx;
  ASSERT_TRUE(on);
  EXPECT_TRUE(on->url.tls);
  EXPECT_EQ(on->api, api::InfluxApi::kV2);  // what influxdb3-python wrote to
  EXPECT_EQ(on->database, "hoymiles");
  EXPECT_EQ(on->org, "home");
  EXPECT_EQ(on->token, "t0k");
  const auto v1 = parse({{"DTU_HOST", "a"},
                         {"INFLUXDB_ENABLED", "1"},
                         {"INFLUXDB_HOST", "http://10.0.0.9:8086"},
                         {"INFLUXDB_API", "v1"},
                         {"INFLUXDB_DATABASE", "solar"}})
                      .influx;
  ASSERT_TRUE(v1);
  EXPECT_EQ(api::influx_write_target(*v1), "/write?db=solar&precision=ns");

  EXPECT_NE(error_of({{"DTU_HOST", "a"}, {"INFLUXDB_ENABLED", "true"}}).find("needs INFLUXDB_HOST"),
            std::string::npos);
  EXPECT_NE(error_of({{"DTU_HOST", "a"}, {"INFLUXDB_HOST", "influx:8086"}})
                .find("INFLUXDB_HOST must be an http:// or https:// URL"),
            std::string::npos);
  EXPECT_NE(error_of({{"DTU_HOST", "a"},
                      {"INFLUXDB_ENABLED", "true"},
                      {"INFLUXDB_HOST", "http://i"},
                      {"INFLUXDB_API", "v4"}})
                .find("INFLUXDB_API must be v1, v2 or v3, got 'v4'"),
            std::string::npos);
  const std::string secret = "line1\nsecret-part";
  const auto refused = error_of({{"DTU_HOST", "a"},
                                 {"INFLUXDB_ENABLED", "true"},
                                 {"INFLUXDB_HOST", "http://i"},
                                 {"INFLUXDB_TOKEN", secret}});
  EXPECT_NE(refused.find("INFLUXDB_TOKEN must be one line"), std::string::npos) << refused;
  EXPECT_EQ(refused.find("secret-part"), std::string::npos) << refused;
}

TEST(ServeConfig, EveryVariableOfTheApiSpecIsASetting) {
  for (const char* name : {"DB_HOST",
                           "DB_PORT",
                           "DB_NAME",
                           "DB_USER",
                           "DB_PASSWORD",
                           "DATABASE_URL",
                           "DB_POOL_SIZE",
                           "DB_MAX_OVERFLOW",
                           "DB_AUTO_MIGRATE",
                           "DTU_HOST",
                           "DTU_PORT",
                           "MODBUS_UNIT_ID",
                           "DTU_SERIAL_PORT",
                           "DTU_BAUD",
                           "DTUS",
                           "COMM_TIMEOUT",
                           "COMM_RETRIES",
                           "COMM_RECONNECT_DELAY",
                           "COMM_RECONNECT_DELAY_MAX",
                           "QUERY_PERIOD",
                           "RESET_HOUR",
                           "TIMEZONE",
                           "HEALTH_HOST",
                           "HEALTH_PORT",
                           "API_TOKEN",
                           "DATA_DIR"}) {
    const bool found = std::any_of(kSettings.begin(), kSettings.end(),
                                   [&](const Setting& s) { return s.env == name; });
    EXPECT_TRUE(found) << name;
  }
}

}  // namespace
}  // namespace smiles::bridge

#include <algorithm>
#include <fstream>
#include <set>
#include <sstream>

namespace smiles::bridge {
namespace {

// The README documents every setting (its table is generated from kSettings).
TEST(ServeConfig, ReadmeListsEverySetting) {
  std::ifstream in(SMILES_SOURCE_DIR "/README.md");
  ASSERT_TRUE(in) << "README.md not found";
  std::stringstream readme;
  readme << in.rdbuf();
  for (const auto& s : kSettings) {
    EXPECT_NE(readme.str().find("| `" + std::string(s.env) + "` | `" + std::string(s.flag) + "` |"),
              std::string::npos)
        << s.env << " is missing from the README's settings table";
  }
  for (const auto& s : kGlobalSettings) {
    EXPECT_NE(readme.str().find("`" + std::string(s.env) + "`"), std::string::npos) << s.env;
  }
}

// .env.example (docker-compose) names exactly the variables the bridge reads.
TEST(ServeConfig, EnvExampleListsEveryVariableAndNothingElse) {
  std::ifstream in(SMILES_SOURCE_DIR "/.env.example");
  ASSERT_TRUE(in) << ".env.example not found";
  std::set<std::string> listed;
  std::string line;
  while (std::getline(in, line)) {
    // "NAME=value" or "# NAME=default"; anything else is a comment.
    const std::string text = line.rfind("# ", 0) == 0 ? line.substr(2) : line;
    const auto eq = text.find('=');
    if (eq == std::string::npos || eq == 0) continue;
    const auto name = text.substr(0, eq);
    const bool is_name = std::all_of(name.begin(), name.end(), [](char c) {
      return (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
    });
    if (!is_name) continue;
    EXPECT_TRUE(listed.insert(name).second) << name << " is listed twice";
  }
  std::set<std::string> read;
  for (const auto& s : kSettings) read.insert(std::string(s.env));
  for (const auto& s : kGlobalSettings) read.insert(std::string(s.env));
  for (const auto& name : read) EXPECT_TRUE(listed.count(name)) << name << " is missing";
  for (const auto& name : listed) EXPECT_TRUE(read.count(name)) << name << " is not a setting";
}

}  // namespace
}  // namespace smiles::bridge
