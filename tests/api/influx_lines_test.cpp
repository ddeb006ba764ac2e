// The InfluxDB line protocol of a poll cycle, and the writer's URLs, without a server.
// The measurements, tags, fields and their types are those of the Python bridge
// (Studio729/hoymiles-mqtt, hoymiles_smiles/influxdb_client.py: Point("dtu"),
// Point("inverter"), Point("port"); float() and int() fields, alarm_flag a boolean).
#include "smiles/api/influx_lines.h"

#include <gtest/gtest.h>

#include <sstream>

#include "readings.h"
#include "smiles/api/influx_writer.h"

namespace smiles::api {
namespace {

using test::make_reading;
using test::utc;

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

std::vector<ProductionEntry> served_of(const DtuReading& r, std::uint64_t total_offset = 0) {
  std::vector<ProductionEntry> out;
  for (const auto& inv : r.inverters) {
    for (const auto& p : inv.ports) {
      out.push_back({p.serial_number, p.port_number, p.today_production_wh,
                     p.total_production_wh + total_offset, r.timestamp, false});
    }
  }
  return out;
}

TEST(InfluxLines, ThePythonBridgesMeasurementsTagsAndFieldTypes) {
  const auto r = make_reading(utc("2026-06-01T11:00:00"), 1, 2);
  const auto batch = influx_lines(r, served_of(r));
  const auto lines = lines_of(batch.lines);
  ASSERT_EQ(lines.size(), 4U);  // inverter, two ports, dtu
  EXPECT_EQ(batch.points, 4U);
  EXPECT_TRUE(batch.lines.ends_with("\n"));
  const std::string ns = " 1780311600000000000";
  EXPECT_EQ(lines[0],
            "inverter,dtu_name=roof,serial_number=116100000001 grid_voltage=230.5,"
            "grid_frequency=50.01,temperature=-2.5,operating_status=3i,alarm_code=0i,"
            "alarm_count=0i,link_status=1i" +
                ns);
  EXPECT_EQ(lines[1],
            "port,dtu_name=roof,port_number=1,serial_number=116100000001 pv_voltage=35.2,"
            "pv_current=7.31,pv_power=101,today_production=501i,total_production=1001001i" +
                ns);
  EXPECT_EQ(lines[3],
            "dtu,dtu_name=roof,dtu_serial=10F700000001 pv_power=203,today_production=1003i,"
            "total_production=2002003i,alarm_flag=false" +
                ns);
}

// Served energy, not the DTU's counters: a zero block's zeros never reach InfluxDB.
TEST(InfluxLines, EnergyIsTheServedValueAndUnlinkedInvertersWriteTheirLinkOnly) {
  auto r = make_reading(utc("2026-06-01T11:00:00"), 2, 2);
  const auto served = served_of(r, 500);  // the served totals run 500 Wh above the DTU's
  r.inverters[1].link_status = 0;         // an upload window: all zeros
  for (auto& p : r.inverters[1].ports) p = {p.serial_number, p.port_number, 0, 0, 0, 0, 0};
  r.inverters[1].alarm_count = 3;  // not counted: the inverter is not linked
  r.inverters[0].alarm_count = 0;
  const auto lines = lines_of(influx_lines(r, served).lines);
  ASSERT_EQ(lines.size(), 5U);  // inverter, 2 ports, inverter (link only), dtu
  EXPECT_NE(lines[1].find("total_production=1001501i"), std::string::npos) << lines[1];
  EXPECT_TRUE(
      lines[3].starts_with("inverter,dtu_name=roof,serial_number=116100000002 "
                           "link_status=0i "))
      << lines[3];
  // The plant: power of linked ports only; energy of every port, held ones included.
  EXPECT_NE(lines[4].find("pv_power=203,today_production=2006i,total_production=4006006i,"
                          "alarm_flag=false"),
            std::string::npos)
      << lines[4];
  r.inverters[0].alarm_count = 1;
  EXPECT_NE(influx_lines(r, served).lines.find("alarm_flag=true"), std::string::npos);
}

TEST(InfluxLines, NamesAreEscapedAndValuesLineProtocolCannotCarryAreLeftOut) {
  auto r = make_reading(utc("2026-06-01T11:00:00"), 1, 1, 1, "roof west, 2=b");
  r.dtu_serial.clear();
  r.inverters[0].temperature_c = std::numeric_limits<double>::quiet_NaN();
  r.inverters[0].ports[0].pv_power_w = std::numeric_limits<double>::infinity();
  const auto lines = lines_of(influx_lines(r, {}).lines);
  ASSERT_EQ(lines.size(), 3U);
  EXPECT_TRUE(lines[0].starts_with("inverter,dtu_name=roof\\ west\\,\\ 2\\=b,serial_number="));
  EXPECT_EQ(lines[0].find("temperature"), std::string::npos);
  EXPECT_EQ(lines[1].find("pv_power"), std::string::npos);
  EXPECT_EQ(lines[1].find("production"), std::string::npos);            // no served entry
  EXPECT_NE(lines[2].find(",dtu_serial=unknown "), std::string::npos);  // as the Python bridge
  EXPECT_EQ(influx_escape("a\nb\\"), "a_b_");
  // A DTU that answered with no inverters writes nothing.
  r.inverters.clear();
  EXPECT_EQ(influx_lines(r, {}).points, 0U);
}

TEST(InfluxWriterUrls, EachApiGetsItsEndpoint) {
  InfluxOptions o;
  o.url = *parse_influx_url("https://influx.example.com/proxy/");
  EXPECT_TRUE(o.url.tls);
  EXPECT_EQ(o.url.port, "443");
  EXPECT_EQ(o.url.base_path, "/proxy");
  o.database = "solar data";
  EXPECT_EQ(influx_write_target(o), "/proxy/api/v2/write?bucket=solar%20data&precision=ns");
  o.org = "home&co";
  EXPECT_EQ(influx_write_target(o),
            "/proxy/api/v2/write?bucket=solar%20data&org=home%26co&precision=ns");
  o.api = InfluxApi::kV1;
  EXPECT_EQ(influx_write_target(o), "/proxy/write?db=solar%20data&precision=ns");
  o.api = InfluxApi::kV3;
  EXPECT_EQ(influx_write_target(o), "/proxy/api/v3/write_lp?db=solar%20data&precision=nanosecond");
  EXPECT_EQ(influx_endpoint(o.url), "https://influx.example.com:443/proxy");
  const auto v6 = parse_influx_url("HTTP://[::1]:8086");
  ASSERT_TRUE(v6);
  EXPECT_EQ(v6->host, "::1");
  EXPECT_EQ(influx_endpoint(*v6), "http://[::1]:8086");
  for (const char* bad : {"influxdb:8086", "ftp://x", "http://", "http://u:p@x:8086", "http://x:0",
                          "http://x:8086?db=a", "http://x y", "http://x:99999"}) {
    EXPECT_FALSE(parse_influx_url(bad)) << bad;
  }
  EXPECT_EQ(parse_influx_api("v3"), InfluxApi::kV3);
  EXPECT_FALSE(parse_influx_api("V2 "));
}

}  // namespace
}  // namespace smiles::api
