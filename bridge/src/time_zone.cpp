#include "time_zone.h"

#include <sys/stat.h>

#include <cstdlib>
#include <ctime>

#include "smiles/core/error.h"

namespace smiles::bridge {

void use_time_zone(const std::string& tz) {
  struct stat st {};
  const bool known =
      tz == "UTC" || (tz.find("..") == std::string::npos && !tz.empty() && tz[0] != '/' &&
                      stat(("/usr/share/zoneinfo/" + tz).c_str(), &st) == 0 && S_ISREG(st.st_mode));
  if (!known) {
    throw ConfigError("TIMEZONE '" + tz +
                      "' is not a known IANA time zone (e.g. Europe/Berlin, UTC; is the tzdata "
                      "package installed?)");
  }
  setenv("TZ", tz.c_str(), 1);
  tzset();
}

LocalDateTime local_time(Timestamp t) {
  const auto secs = static_cast<std::time_t>(
      std::chrono::floor<std::chrono::seconds>(t).time_since_epoch().count());
  std::tm tm{};
  localtime_r(&secs, &tm);
  return {tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec};
}

std::function<std::string(Timestamp)> production_day_function(int reset_hour) {
  return [reset_hour](Timestamp t) { return production_day(local_time(t), reset_hour); };
}

}  // namespace smiles::bridge
