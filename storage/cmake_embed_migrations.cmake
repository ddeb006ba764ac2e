# Generates migrations.cpp from storage/migrations/NNNN_name.sql (run at configure time).
file(GLOB MIGRATION_FILES CONFIGURE_DEPENDS "${MIGRATIONS_DIR}/*.sql")
list(SORT MIGRATION_FILES)
set(BODY "")
foreach(FILE ${MIGRATION_FILES})
  get_filename_component(BASE ${FILE} NAME_WE)
  string(REGEX MATCH "^([0-9]+)_(.+)$" _ ${BASE})
  if(NOT CMAKE_MATCH_1)
    message(FATAL_ERROR "migration file ${FILE} must be named NNNN_name.sql")
  endif()
  math(EXPR VERSION "${CMAKE_MATCH_1}")
  file(READ ${FILE} SQL)
  string(APPEND BODY "      {${VERSION}, \"${CMAKE_MATCH_2}\", R\"smiles_sql(${SQL})smiles_sql\"},\n")
endforeach()
file(WRITE ${OUTPUT}.tmp "// Generated from storage/migrations/*.sql by CMake. Do not edit.
#include \"smiles/storage/migrator.h\"

namespace smiles::storage {

const std::vector<Migration>& builtin_migrations() {
  static const std::vector<Migration> migrations = {
${BODY}  };
  return migrations;
}

}  // namespace smiles::storage
")
configure_file(${OUTPUT}.tmp ${OUTPUT} COPYONLY)
