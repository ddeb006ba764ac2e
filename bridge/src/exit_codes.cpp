#include "exit_codes.h"

namespace smiles::bridge {

int exit_code_for(const Error& e, CommandFamily family) {
  const auto kind = e.kind();
  for (const auto& rule : kExitRules) {
    if (rule.kind != kind) continue;
    switch (family) {
      case CommandFamily::kService:
        return rule.service;
      case CommandFamily::kProbe:
        return rule.probe;
      case CommandFamily::kDatabase:
        return rule.database;
    }
  }
  return family == CommandFamily::kProbe ? kExitProtocol : kExitFailure;
}

}  // namespace smiles::bridge
