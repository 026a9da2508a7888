"""An import-linter contract that no module of the project imports itself back.

import-linter's own ``acyclic_siblings`` contract compares packages as wholes: the core's topic
packages use one another's modules both ways (the schedule maths read the contract's specs, the
contract's checks use the schedule maths) without any module importing itself back, so it would
refuse a layout the project keeps on purpose. This contract follows single modules instead:
every import, inside a function or under ``TYPE_CHECKING`` too, that grimp's graph holds.
"""

from grimp import ImportGraph
from importlinter.application import output
from importlinter.domain import fields
from importlinter.domain.contract import Contract, ContractCheck


class NoModuleCyclesContract(Contract):
    type_name = "no_module_cycles"

    packages = fields.SetField(subfield=fields.ModuleField())

    def check(self, graph: ImportGraph, verbose: bool) -> ContractCheck:
        cycles: dict[frozenset[str], tuple[str, ...]] = {}
        for package in sorted(p.name for p in self.packages):
            modules = graph.find_descendants(package) | {package}
            for importer in sorted(modules):
                for imported in sorted(graph.find_modules_directly_imported_by(importer) & modules):
                    # A chain back from what a module imports to the module itself closes a cycle.
                    back = graph.find_shortest_chain(importer=imported, imported=importer)
                    if back:
                        cycles.setdefault(frozenset(back), (importer, *back))
        return ContractCheck(kept=not cycles, metadata={"cycles": sorted(cycles.values())})

    def render_broken_contract(self, check: ContractCheck) -> None:
        for cycle in check.metadata["cycles"]:
            output.print_error(" -> ".join(cycle))
            output.new_line()
