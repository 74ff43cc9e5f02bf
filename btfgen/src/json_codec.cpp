// SPDX-License-Identifier: Apache-2.0
#include "json_codec.h"

namespace btfpack::btfgen {

using nlohmann::json;

const char *status_name(Status s) {
  switch (s) {
  case Status::ok:
    return "ok";
  case Status::failed:
    return "failed";
  case Status::skipped:
    return "skipped";
  }
  return "?";
}

bool parse_status(std::string_view s, Status &out) {
  for (Status c : {Status::ok, Status::failed, Status::skipped})
    if (s == status_name(c)) {
      out = c;
      return true;
    }
  return false;
}

json entry_outcome_to_json(const EntryResult &r) {
  json j;
  j["status"] = status_name(r.status);
  if (!r.reason.empty())
    j["reason"] = r.reason;
  if (!r.bpftool_error.empty())
    j["bpftool_message"] = r.bpftool_error;
  j["objects"] = r.objects;
  if (!r.skipped_objects.empty())
    j["skipped_objects"] = r.skipped_objects;
  if (r.blob) {
    j["blob"] = to_hex(*r.blob);
    j["size"] = r.blob_size;
  }
  json f = json::array();
  for (const auto &x : r.findings) {
    json e = {{"object", x.object},     {"section", x.section},
              {"kind", x.kind},         {"spec", x.spec},
              {"severity", x.severity}, {"message", x.message}};
    if (x.relo >= 0)
      e["relo"] = x.relo;
    f.push_back(std::move(e));
  }
  j["findings"] = std::move(f);
  if (r.status == Status::ok || !r.check.mismatches.empty())
    j["check"] = {{"btf_valid", r.check.btf_valid},
                  {"relocations_compared", r.check.relocations_compared},
                  {"mismatches", r.check.mismatches}};
  return j;
}

bool entry_outcome_from_json(const json &j, EntryResult &r) {
  if (!j.is_object() || !j.contains("status") || !j["status"].is_string() ||
      !parse_status(j["status"].get<std::string>(), r.status))
    return false;
  try {
    r.reason = j.value("reason", "");
    r.bpftool_error = j.value("bpftool_message", "");
    r.objects = j.value("objects", std::vector<std::string>{});
    r.skipped_objects = j.value("skipped_objects", std::vector<std::string>{});
    if (j.contains("blob")) {
      auto d = parse_sha256_hex(j["blob"].get<std::string>());
      if (!d.ok())
        return false;
      r.blob = *d;
      r.blob_size = j.value("size", std::uint64_t{0});
    }
    for (const auto &e : j.value("findings", json::array())) {
      Finding f;
      f.object = e.value("object", "");
      f.section = e.value("section", "");
      f.relo = e.value("relo", std::int64_t{-1});
      f.kind = e.value("kind", "");
      f.spec = e.value("spec", "");
      f.severity = e.value("severity", "");
      f.message = e.value("message", "");
      r.findings.push_back(std::move(f));
    }
    if (j.contains("check")) {
      const auto &c = j["check"];
      r.check.btf_valid = c.value("btf_valid", false);
      r.check.relocations_compared =
          c.value("relocations_compared", std::size_t{0});
      r.check.mismatches = c.value("mismatches", std::vector<std::string>{});
    }
  } catch (const json::exception &) {
    return false;
  }
  if (r.status == Status::ok && !r.blob)
    return false;
  return true;
}

json entry_to_json(const EntryResult &r) {
  json j = {{"distro", r.kernel.key.distro},  {"version", r.kernel.key.version},
            {"arch", r.kernel.key.arch},      {"release", r.kernel.key.release},
            {"path", r.kernel.path},          {"source", r.kernel.source},
            {"input_sha256", r.kernel.sha256}};
  json o = entry_outcome_to_json(r);
  j.update(o);
  j["cached"] = r.cached;
  j["seconds"] = {
      {"unpack", r.unpack_s}, {"bpftool", r.bpftool_s}, {"check", r.check_s}};
  return j;
}

bool entry_from_json(const json &j, EntryResult &r) {
  if (!entry_outcome_from_json(j, r))
    return false;
  try {
    r.kernel.key.distro = j.at("distro").get<std::string>();
    r.kernel.key.version = j.at("version").get<std::string>();
    r.kernel.key.arch = j.at("arch").get<std::string>();
    r.kernel.key.release = j.at("release").get<std::string>();
    r.kernel.path = j.value("path", "");
    r.kernel.source = j.value("source", "archive");
    r.kernel.sha256 = j.value("input_sha256", "");
    r.cached = j.value("cached", false);
  } catch (const json::exception &) {
    return false;
  }
  return true;
}

} // namespace btfpack::btfgen
