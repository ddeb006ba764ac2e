// The dashboard's endpoints: the page itself (GET /), energy per period, the power
// curve of a day, and the live event stream. Routes in router.cpp.
#include "router_internal.h"

#include <charconv>
#include <chrono>
#include <cmath>
#include <map>
#include <nlohmann/json.hpp>

#include "smiles/core/serial.h"
#include "smiles/core/time.h"

namespace smiles::api {

extern const char* const kDashboardHtml;  // generated from api/web/dashboard.html

namespace {

using nlohmann::json;
using std::chrono::sys_days;

// Most periods one /api/energy answer holds (ten years of days and more).
constexpr long kMaxEnergyPeriods = 4000;

// YYYY-MM-DD (nothing else) or nullopt.
std::optional<sys_days> parse_date(const std::string& text) {
  const auto f = parse_iso8601_fields(text);
  if (!f || f->has_time) return std::nullopt;
  return sys_days{std::chrono::year{f->year} / f->month / f->day};
}

Response bad(const std::string& message) {
  return error_response(400, "invalid_parameter", message);
}

// The optional serial= parameter, normalized; an error response when malformed.
std::variant<std::optional<std::string>, Response> serial_param(
    const std::map<std::string, std::string>& q) {
  const auto it = q.find("serial");
  if (it == q.end() || it->second.empty()) return std::optional<std::string>{};
  const auto serial = normalize_serial(it->second);
  if (!serial) {
    return error_response(
        400, "invalid_serial",
        "serial numbers are 12 hex digits, got '" + it->second.substr(0, 40) + "'");
  }
  return std::optional<std::string>(*serial);
}

std::optional<std::string> param(const std::map<std::string, std::string>& q, const char* name) {
  const auto it = q.find(name);
  if (it == q.end() || it->second.empty()) return std::nullopt;
  return it->second;
}

long periods_between(sys_days from, sys_days to, storage::EnergyPeriod period) {
  using namespace std::chrono;
  const year_month_day a{from}, b{to};
  switch (period) {
    case storage::EnergyPeriod::kDay:
      return (to - from).count() + 1;
    case storage::EnergyPeriod::kMonth:
      return (static_cast<int>(b.year()) - static_cast<int>(a.year())) * 12L +
             static_cast<long>(static_cast<unsigned>(b.month())) -
             static_cast<long>(static_cast<unsigned>(a.month())) + 1;
    case storage::EnergyPeriod::kYear:
      return static_cast<int>(b.year()) - static_cast<int>(a.year()) + 1L;
  }
  return 0;
}

}  // namespace

Response Router::dashboard(const Call&) const {
  Response r;
  r.content_type = "text/html; charset=utf-8";
  r.body = kDashboardHtml;
  // Everything the page needs is in it or from this bridge's API.
  r.headers.emplace_back("Content-Security-Policy",
                         "default-src 'none'; script-src 'unsafe-inline'; style-src "
                         "'unsafe-inline'; img-src data:; connect-src 'self'; base-uri 'none'; "
                         "form-action 'none'; frame-ancestors 'none'");
  r.headers.emplace_back("Cache-Control", "no-cache");
  r.headers.emplace_back("X-Content-Type-Options", "nosniff");
  r.headers.emplace_back("Referrer-Policy", "no-referrer");
  return r;
}

Response Router::energy(const Call& call) const {
  using namespace std::chrono;
  storage::EnergyQuery q;
  const auto period = param(call.query, "period").value_or("day");
  if (period == "day") {
    q.period = storage::EnergyPeriod::kDay;
  } else if (period == "month") {
    q.period = storage::EnergyPeriod::kMonth;
  } else if (period == "year") {
    q.period = storage::EnergyPeriod::kYear;
  } else {
    return bad("period must be day, month or year");
  }
  const auto today = parse_date(live_.production_day(call.now));
  const auto to_text = param(call.query, "to");
  const auto to = to_text ? parse_date(*to_text) : today;
  if (!to) return bad("to must be a date, YYYY-MM-DD");
  std::optional<sys_days> from;
  if (const auto from_text = param(call.query, "from")) {
    from = parse_date(*from_text);
    if (!from) return bad("from must be a date, YYYY-MM-DD");
  } else {
    const year_month_day end{*to};
    switch (q.period) {
      case storage::EnergyPeriod::kDay:
        from = *to - days{30};
        break;
      case storage::EnergyPeriod::kMonth:
        from = sys_days{(end.year() / end.month() / 1) - months{11}};
        break;
      case storage::EnergyPeriod::kYear:
        from = sys_days{(end.year() - years{9}) / January / 1};
        break;
    }
  }
  if (*from > *to) return bad("from is after to");
  if (periods_between(*from, *to, q.period) > kMaxEnergyPeriods) {
    return bad("at most " + std::to_string(kMaxEnergyPeriods) + " periods per request");
  }
  const auto serial = serial_param(call.query);
  if (const auto* err = std::get_if<Response>(&serial)) return *err;
  q.serial = std::get<std::optional<std::string>>(serial);
  q.from = format_iso8601_date(*from);
  q.to = format_iso8601_date(*to);
  json list = json::array();
  for (const auto& b : history_.energy(q))
    list.push_back({{"period_start", b.period_start}, {"wh", b.wh}});
  return json_response(list);
}

Response Router::power(const Call& call) const {
  storage::PowerQuery q;
  // Default: the current production day (the local date unless RESET_HOUR moves it).
  q.date = param(call.query, "date").value_or(live_.production_day(call.now));
  if (!parse_date(q.date)) return bad("date must be a date, YYYY-MM-DD");
  if (const auto step = param(call.query, "step")) {
    long n = 0;
    const auto* end = step->data() + step->size();
    const auto [ptr, ec] = std::from_chars(step->data(), end, n);
    if (ec != std::errc() || ptr != end || n < 300 || n > 86400 || n % 300 != 0) {
      return bad("step must be a multiple of 300 seconds, at most 86400");
    }
    q.step_seconds = static_cast<int>(n);
  }
  const auto serial = serial_param(call.query);
  if (const auto* err = std::get_if<Response>(&serial)) return *err;
  q.serial = std::get<std::optional<std::string>>(serial);
  const auto curve = history_.power(q);
  // The plant: per step, the sum of the inverters that have a value there.
  std::map<Timestamp, double> plant;
  json inverters = json::array();
  for (const auto& s : curve.inverters) {
    json points = json::array();
    for (const auto& p : s.points) {
      plant[p.at] += p.watts;
      points.push_back({{"t", format_iso8601_utc(p.at)}, {"w", std::round(p.watts * 10) / 10}});
    }
    inverters.push_back({{"serial_number", s.serial_number}, {"points", std::move(points)}});
  }
  json points = json::array();
  for (const auto& [at, w] : plant)
    points.push_back({{"t", format_iso8601_utc(at)}, {"w", std::round(w * 10) / 10}});
  return json_response({{"date", q.date},
                        {"step", q.step_seconds},
                        {"from", format_iso8601_utc(curve.from)},
                        {"to", format_iso8601_utc(curve.to)},
                        {"points", std::move(points)},
                        {"inverters", std::move(inverters)}});
}

Response Router::events(const Call& call) const {
  if (!options_.subscribe_events) {
    return error_response(404, "not_enabled", "live events are not enabled in this bridge");
  }
  if (call.request->method == "HEAD") {
    Response r;
    r.content_type = "text/event-stream";
    return r;
  }
  auto sub = options_.subscribe_events();
  if (!sub) {
    auto r = error_response(503, "too_many_event_clients",
                            "too many open event streams; close a dashboard tab or retry later");
    r.headers.emplace_back("Retry-After", "30");
    return r;
  }
  Response r;
  r.content_type = "text/event-stream";
  r.headers.emplace_back("Cache-Control", "no-store");
  r.events = std::move(sub);
  return r;
}

}  // namespace smiles::api
