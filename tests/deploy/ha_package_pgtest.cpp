// The Home Assistant package's templates, rendered with Jinja2 against a live
// bridge (serve + simulator + PostgreSQL), yield numbers or the expected states.
#include "serve_fixture.h"

namespace smiles::test {
namespace {

class HomeAssistantPackage : public ServeTest {};

TEST_F(HomeAssistantPackage, EveryTemplateRendersAgainstALiveBridge) {
  single_dtu = true;  // the package reads dtus['DTU'], the default name
  start();
  ASSERT_TRUE(wait_health(polled_single));
  // Energy has been produced, so the energy sensors are checked against real totals.
  for (int i = 0; i < 100 && get_json("/api/production/summary")["total_kwh"] <= 0.0; ++i) {
    std::this_thread::sleep_for(100ms);
  }
  const auto r = run_command({"python3", SMILES_SOURCE_DIR "/tests/deploy/ha_templates.py",
                              SMILES_SOURCE_DIR "/deploy/homeassistant/hoymiles_smiles.yaml",
                              "http://127.0.0.1:" + std::to_string(http_port), "DTU"},
                             60s);
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("templates rendered"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("Solar bridge healthy"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("Solar DTU online                              True"), std::string::npos)
      << r.out;
}

// The same script fails on a template that does not fit the API (it can fail).
TEST_F(HomeAssistantPackage, ABrokenTemplateIsCaught) {
  start();
  ASSERT_TRUE(wait_health(polled));
  TempDir dir("smiles-ha");
  {
    std::ifstream in(SMILES_SOURCE_DIR "/deploy/homeassistant/hoymiles_smiles.yaml");
    std::stringstream text;
    text << in.rdbuf();
    auto yaml = text.str();
    const std::string field = "value_json.total_kwh";
    yaml.replace(yaml.find(field), field.size(), "value_json.total_kilowatt_hours");
    std::ofstream(dir.path() / "broken.yaml") << yaml;
  }
  const auto r = run_command(
      {"python3", SMILES_SOURCE_DIR "/tests/deploy/ha_templates.py", dir.path() / "broken.yaml",
       "http://127.0.0.1:" + std::to_string(http_port), "roof"},
      60s);
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_NE(r.out.find("FAIL: Solar energy total"), std::string::npos) << r.out;
}

}  // namespace
}  // namespace smiles::test
