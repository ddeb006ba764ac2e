// Page load to first chart: headless Chromium opens the dashboard of a running bridge
// (loopback) N times, each in a fresh tab state (cache disabled); prints the median
// and the worst time from the start of navigation to the first chart drawn (the
// page's "smiles-first-chart" mark), and to the whole page ready.
//
//   page_load --url http://127.0.0.1:8080/ [--runs 20]
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "browser.h"

int main(int argc, char** argv) {
  std::string url;
  int runs = 20;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i];
    if (flag == "--url") url = argv[i + 1];
    if (flag == "--runs") runs = std::max(1, std::atoi(argv[i + 1]));
  }
  if (url.empty()) {
    std::fprintf(stderr, "page_load --url http://127.0.0.1:PORT/ [--runs N]\n");
    return 2;
  }
  smiles::test::Browser browser(1280, 1800);
  browser.call("Network.setCacheDisabled", {{"cacheDisabled", true}});
  std::vector<double> chart, ready;
  for (int i = 0; i < runs; ++i) {
    browser.navigate(url);
    if (!browser.wait_for("performance.getEntriesByName('smiles-first-chart').length > 0 && "
                          "performance.getEntriesByName('smiles-ready').length > 0",
                          std::chrono::seconds{20})) {
      std::fprintf(stderr, "the page did not draw its chart within 20 s\n");
      return 1;
    }
    chart.push_back(browser.eval("performance.getEntriesByName('smiles-first-chart')[0].startTime")
                        .get<double>());
    ready.push_back(
        browser.eval("performance.getEntriesByName('smiles-ready')[0].startTime").get<double>());
  }
  std::sort(chart.begin(), chart.end());
  std::sort(ready.begin(), ready.end());
  std::printf(
      "  page load to first chart   median %6.0f ms, worst %6.0f ms of %d loads   (target < 1000 "
      "ms: %s)\n",
      chart[chart.size() / 2], chart.back(), runs, chart.back() < 1000 ? "met" : "MISSED");
  std::printf("  page load to all loaded    median %6.0f ms, worst %6.0f ms\n",
              ready[ready.size() / 2], ready.back());
  for (const auto& e : browser.errors()) std::printf("  page error: %s\n", e.c_str());
  return 0;
}
