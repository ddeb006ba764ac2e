#include "smiles/protocol/dtu_address.h"

#include <gtest/gtest.h>

#include "smiles/core/error.h"

namespace smiles::protocol {
namespace {

TEST(DtuAddress, TcpWithDefaults) {
  const auto a = parse_dtu_address("tcp://192.168.1.50");
  EXPECT_EQ(a.transport, Transport::kTcp);
  EXPECT_EQ(a.host, "192.168.1.50");
  EXPECT_EQ(a.port, 502);
  EXPECT_EQ(a.unit, 1);
}

TEST(DtuAddress, TcpWithPortUnitAndHostname) {
  const auto a = parse_dtu_address("TCP://dtu.local:1502?unit=7");
  EXPECT_EQ(a.host, "dtu.local");
  EXPECT_EQ(a.port, 1502);
  EXPECT_EQ(a.unit, 7);
}

TEST(DtuAddress, TcpIpv6) {
  const auto a = parse_dtu_address("tcp://[::1]:5502");
  EXPECT_EQ(a.host, "::1");
  EXPECT_EQ(a.port, 5502);
  EXPECT_EQ(format_dtu_address(a), "tcp://[::1]:5502?unit=1");
}

TEST(DtuAddress, RtuWithDefaultsAndOptions) {
  auto a = parse_dtu_address("rtu:///dev/ttyUSB0");
  EXPECT_EQ(a.transport, Transport::kRtu);
  EXPECT_EQ(a.device, "/dev/ttyUSB0");
  EXPECT_EQ(a.baud, 9600);
  EXPECT_EQ(a.unit, 101);
  a = parse_dtu_address("rtu:///dev/ttyUSB1?baud=19200&unit=254");
  EXPECT_EQ(a.baud, 19200);
  EXPECT_EQ(a.unit, 254);
}

TEST(DtuAddress, FormatRoundTrips) {
  for (const char* text : {"tcp://10.0.0.2:502?unit=1", "rtu:///dev/ttyUSB0?baud=9600&unit=101",
                           "tcp://[fe80::1]:502?unit=3"}) {
    const auto a = parse_dtu_address(text);
    EXPECT_EQ(format_dtu_address(a), text);
    EXPECT_EQ(parse_dtu_address(format_dtu_address(a)), a);
  }
}

TEST(DtuAddress, ErrorsSayWhatIsWrong) {
  auto message = [](const char* text) {
    try {
      parse_dtu_address(text);
    } catch (const ConfigError& e) {
      return std::string(e.what());
    }
    return std::string("accepted");
  };
  EXPECT_NE(message("192.168.1.50").find("missing scheme"), std::string::npos);
  EXPECT_NE(message("http://x").find("unknown scheme"), std::string::npos);
  EXPECT_NE(message("tcp://").find("missing host"), std::string::npos);
  EXPECT_NE(message("tcp://h:0").find("port must be"), std::string::npos);
  EXPECT_NE(message("tcp://h:99999").find("port must be"), std::string::npos);
  EXPECT_NE(message("tcp://h:abc").find("port must be a number"), std::string::npos);
  EXPECT_NE(message("tcp://h?unit=256").find("unit must be"), std::string::npos);
  EXPECT_NE(message("tcp://h?baud=9600").find("rtu:// only"), std::string::npos);
  EXPECT_NE(message("tcp://h?speed=1").find("unknown option"), std::string::npos);
  EXPECT_NE(message("tcp://::1").find("brackets"), std::string::npos);
  EXPECT_NE(message("rtu://dev/ttyUSB0").find("absolute path"), std::string::npos);
  EXPECT_NE(message("rtu:///dev/x?baud=1234").find("unsupported baud"), std::string::npos);
  EXPECT_NE(message("rtu:///dev/x?unit=0").find("unit must be 1..255"), std::string::npos);
  EXPECT_NE(message("rtu:///dev/x?unit").find("needs a value"), std::string::npos);
}

}  // namespace
}  // namespace smiles::protocol
