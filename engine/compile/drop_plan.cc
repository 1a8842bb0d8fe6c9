#include "engine/compile/drop_plan.h"

#include <algorithm>
#include <unordered_map>

namespace tensord::compile {

std::vector<std::vector<int>> DeadSlotsAfter(const std::vector<Instruction>& instructions,
                                             const std::unordered_set<int>& kept_slots) {
  std::unordered_map<int, size_t> last_use;  // computed slot -> its last reader, or its producer
  for (size_t i = 0; i < instructions.size(); ++i) {
    for (int s : instructions[i].outputs) {
      if (!kept_slots.count(s)) last_use.emplace(s, i);
    }
    for (int s : instructions[i].inputs) {
      if (auto it = last_use.find(s); it != last_use.end()) it->second = std::max(it->second, i);
    }
  }
  std::vector<std::vector<int>> dead(instructions.size());
  for (const auto& [slot, i] : last_use) dead[i].push_back(slot);
  // In slot order, so that a run drops the same way whatever the map's order was.
  for (std::vector<int>& slots : dead) std::sort(slots.begin(), slots.end());
  return dead;
}

void PlanDrops(std::vector<Instruction>& instructions, const std::unordered_set<int>& kept_slots) {
  std::vector<std::vector<int>> dead = DeadSlotsAfter(instructions, kept_slots);
  for (size_t i = 0; i < instructions.size(); ++i) instructions[i].drops = std::move(dead[i]);
}

}  // namespace tensord::compile
