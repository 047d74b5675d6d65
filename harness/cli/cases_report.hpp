// The printing half of `xdpturn cases`: the table of cases and contract
// rows (or, under the conformance oracle, of classes), the JSON and JUnit
// reports and a pcap per failed case. The run itself is cases/cases_run.
#pragma once

#include <string>

#include "harness/cases/cases_run.hpp"
#include "harness/compare/program_source.hpp"

namespace xdpturn::cli {

struct CasesReportOptions {
    std::string artifacts;  // a pcap per failed case in this directory
    std::string report;     // JSON
    std::string junit;      // JUnit XML
    bool verbose = false;   // say so for every case whose outputs are equal
};

// Prints the run and writes what the options ask for; returns the exit
// status: 0 every case passed (conformance: no defect), 1 not, 2 a report
// could not be written.
int report_cases(const CasesRun& run, const ProgramSource& source, const CasesReportOptions& options);

}  // namespace xdpturn::cli
