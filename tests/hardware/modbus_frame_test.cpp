#include "smiles/protocol/modbus_frame.h"

#include <gtest/gtest.h>

#include <vector>

namespace smiles::protocol {
namespace {

using Status = ParsedResponse::Status;
using Bytes = std::vector<std::uint8_t>;

Bytes payload40() {
  Bytes p(40);
  for (std::size_t i = 0; i < p.size(); ++i) p[i] = static_cast<std::uint8_t>(i + 1);
  return p;
}

const ExpectedResponse kExpect{101, 0x03, 40};

TEST(Crc16, KnownVectors) {
  // Read 1 holding register at 0 from unit 1: CRC bytes on the wire 84 0A.
  EXPECT_EQ(crc16(Bytes{0x01, 0x03, 0x00, 0x00, 0x00, 0x01}), 0x0A84);
  EXPECT_EQ(crc16(Bytes{0x01, 0x03, 0x00, 0x00, 0x00, 0x0A}), 0xCDC5);
  EXPECT_EQ(crc16(Bytes{}), 0xFFFF);
}

TEST(TcpFrame, CompleteAnswer) {
  const auto adu = tcp_adu(7, 1, read_response_pdu(payload40()));
  const auto r = parse_tcp_response(adu, {1, 0x03, 40});
  ASSERT_EQ(r.status, Status::kComplete);
  EXPECT_EQ(r.frame_bytes, adu.size());
  EXPECT_EQ(r.payload, payload40());
  EXPECT_EQ(r.declared_byte_count, 40);
  EXPECT_EQ(r.exception_code, 0);
}

TEST(TcpFrame, IncompleteUntilTheMbapLengthArrives) {
  const auto adu = tcp_adu(7, 1, read_response_pdu(payload40()));
  for (std::size_t n = 0; n < adu.size(); ++n) {
    EXPECT_EQ(parse_tcp_response(std::span(adu).first(n), {1, 0x03, 40}).status,
              Status::kIncomplete)
        << n;
  }
}

TEST(TcpFrame, WrongByteCountIsAccepted) {
  for (std::uint8_t lie : {std::uint8_t{80}, std::uint8_t{0xFF}, std::uint8_t{20}}) {
    const auto adu = tcp_adu(0, 1, read_response_pdu(payload40(), lie));
    const auto r = parse_tcp_response(adu, {1, 0x03, 40});
    ASSERT_EQ(r.status, Status::kComplete);
    EXPECT_EQ(r.payload, payload40());
    EXPECT_EQ(r.declared_byte_count, lie);
  }
}

TEST(TcpFrame, ExceptionAnswer) {
  const auto adu = tcp_adu(0, 1, exception_pdu(0x03, 0x06));
  const auto r = parse_tcp_response(adu, {1, 0x03, 40});
  ASSERT_EQ(r.status, Status::kComplete);
  EXPECT_EQ(r.exception_code, 0x06);
}

TEST(TcpFrame, GarbageIsInvalid) {
  auto adu = tcp_adu(0, 1, read_response_pdu(payload40()));
  adu[2] = 1;  // protocol id
  EXPECT_EQ(parse_tcp_response(adu, {1, 0x03, 40}).status, Status::kInvalid);
  adu = tcp_adu(0, 1, read_response_pdu(payload40()));
  adu[7] = 0x04;  // other function
  EXPECT_EQ(parse_tcp_response(adu, {1, 0x03, 40}).status, Status::kInvalid);
  const Bytes bad_length = {0, 0, 0, 0, 0x7F, 0xFF, 1, 3};
  EXPECT_EQ(parse_tcp_response(bad_length, {1, 0x03, 40}).status, Status::kInvalid);
}

TEST(TcpFrame, EmptyPayloadMeansNotMapped) {
  const auto adu = tcp_adu(0, 1, read_response_pdu({}));
  const auto r = parse_tcp_response(adu, {1, 0x03, 40});
  ASSERT_EQ(r.status, Status::kComplete);
  EXPECT_TRUE(r.payload.empty());
}

TEST(RtuFrame, CompleteAnswerWithoutWaitingForSilence) {
  const auto adu = rtu_adu(101, read_response_pdu(payload40()));
  ASSERT_EQ(adu.size(), 45U);
  const auto r = parse_rtu_response(adu, kExpect, false);
  ASSERT_EQ(r.status, Status::kComplete);
  EXPECT_EQ(r.payload, payload40());
  for (std::size_t n = 0; n < adu.size(); ++n) {
    EXPECT_EQ(parse_rtu_response(std::span(adu).first(n), kExpect, false).status,
              Status::kIncomplete)
        << n;
  }
}

TEST(RtuFrame, WrongByteCountIsAcceptedWhenTheCrcFitsTheRealLength) {
  for (std::uint8_t lie :
       {std::uint8_t{80}, std::uint8_t{0xFF}, std::uint8_t{20}, std::uint8_t{0}}) {
    const auto adu = rtu_adu(101, read_response_pdu(payload40(), lie));
    const auto r = parse_rtu_response(adu, kExpect, false);
    ASSERT_EQ(r.status, Status::kComplete) << int{lie};
    EXPECT_EQ(r.payload, payload40());
    EXPECT_EQ(r.declared_byte_count, lie);
  }
}

TEST(RtuFrame, EmptyAnswerIsComplete) {
  const auto adu = rtu_adu(101, read_response_pdu({}));
  const auto r = parse_rtu_response(adu, kExpect, false);
  ASSERT_EQ(r.status, Status::kComplete);
  EXPECT_TRUE(r.payload.empty());
}

TEST(RtuFrame, ExceptionAnswer) {
  const auto adu = rtu_adu(101, exception_pdu(0x03, 0x02));
  const auto r = parse_rtu_response(adu, kExpect, false);
  ASSERT_EQ(r.status, Status::kComplete);
  EXPECT_EQ(r.exception_code, 0x02);
}

TEST(RtuFrame, BadCrcWaitsForSilenceThenIsInvalid) {
  auto adu = rtu_adu(101, read_response_pdu(payload40()));
  adu.back() ^= 0xFF;
  EXPECT_EQ(parse_rtu_response(adu, kExpect, false).status, Status::kIncomplete);
  const auto r = parse_rtu_response(adu, kExpect, true);
  EXPECT_EQ(r.status, Status::kInvalid);
  EXPECT_NE(r.error.find("CRC"), std::string::npos);
}

TEST(RtuFrame, OddLengthFrameWithValidCrcIsJudgedAtSilence) {
  Bytes short_payload(10, 0xAB);
  const auto adu = rtu_adu(101, read_response_pdu(short_payload, 40));  // count lies, 10 bytes
  EXPECT_EQ(parse_rtu_response(adu, kExpect, false).status, Status::kIncomplete);
  const auto r = parse_rtu_response(adu, kExpect, true);
  ASSERT_EQ(r.status, Status::kComplete);
  EXPECT_EQ(r.payload.size(), 10U);  // the client then rejects the size
}

TEST(RtuFrame, AnswerFromAnotherUnitIsInvalid) {
  const auto adu = rtu_adu(102, read_response_pdu(payload40()));
  EXPECT_EQ(parse_rtu_response(adu, kExpect, false).status, Status::kInvalid);
}

}  // namespace
}  // namespace smiles::protocol
