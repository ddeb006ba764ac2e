# Generates dashboard_html.cpp from api/web/dashboard.html (run at configure time;
# editing the page re-runs CMake).
file(READ ${WEB_FILE} HTML)
string(FIND "${HTML}" ")smiles_html\"" _clash)
if(NOT _clash EQUAL -1)
  message(FATAL_ERROR "${WEB_FILE} contains the raw-string delimiter )smiles_html\"")
endif()
file(WRITE ${OUTPUT}.tmp "// Generated from api/web/dashboard.html by CMake. Do not edit.
namespace smiles::api {
extern const char* const kDashboardHtml;
const char* const kDashboardHtml = R\"smiles_html(${HTML})smiles_html\";
}  // namespace smiles::api
")
configure_file(${OUTPUT}.tmp ${OUTPUT} COPYONLY)
