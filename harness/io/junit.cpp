#include "harness/io/junit.hpp"

#include <tinyxml2.h>

#include "harness/io/output_files.hpp"

namespace xdpturn {

namespace {

void add_suite(tinyxml2::XMLElement& root, const JUnitSuite& suite) {
    tinyxml2::XMLElement* element = root.InsertNewChildElement("testsuite");
    std::size_t failures = 0, skipped = 0;
    double seconds = 0;
    for (const JUnitCase& c : suite.cases) {
        failures += c.failure.has_value();
        skipped += c.skipped.has_value();
        seconds += c.seconds;
    }
    element->SetAttribute("name", suite.name.c_str());
    element->SetAttribute("tests", static_cast<std::uint64_t>(suite.cases.size()));
    element->SetAttribute("failures", static_cast<std::uint64_t>(failures));
    element->SetAttribute("errors", 0);
    element->SetAttribute("skipped", static_cast<std::uint64_t>(skipped));
    element->SetAttribute("time", seconds);
    if (!suite.properties.empty()) {
        tinyxml2::XMLElement* properties = element->InsertNewChildElement("properties");
        for (const auto& [name, value] : suite.properties) {
            tinyxml2::XMLElement* property = properties->InsertNewChildElement("property");
            property->SetAttribute("name", name.c_str());
            property->SetAttribute("value", value.c_str());
        }
    }
    for (const JUnitCase& c : suite.cases) {
        tinyxml2::XMLElement* testcase = element->InsertNewChildElement("testcase");
        testcase->SetAttribute("classname", c.classname.c_str());
        testcase->SetAttribute("name", c.name.c_str());
        testcase->SetAttribute("time", c.seconds);
        if (c.failure) {
            tinyxml2::XMLElement* failure = testcase->InsertNewChildElement("failure");
            failure->SetAttribute("message", c.failure->c_str());
            failure->SetAttribute("type", "disagreement");
            failure->InsertNewText(c.details.c_str());
        } else if (c.skipped) {
            testcase->InsertNewChildElement("skipped")->SetAttribute("message", c.skipped->c_str());
        }
    }
}

}  // namespace

Status write_junit(const std::string& path, const std::vector<JUnitSuite>& suites) {
    tinyxml2::XMLDocument document;
    document.InsertEndChild(document.NewDeclaration());
    tinyxml2::XMLElement* root = document.NewElement("testsuites");
    document.InsertEndChild(root);
    for (const JUnitSuite& suite : suites) add_suite(*root, suite);
    tinyxml2::XMLPrinter printer;
    document.Print(&printer);
    if (auto written = write_text_file(path, printer.CStr()); !written)
        return Error{"JUnit: " + written.error().message};
    return ok_status();
}

}  // namespace xdpturn
