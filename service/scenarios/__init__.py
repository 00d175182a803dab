"""Process scenario tests (processes/README.md, "Scenarios"): a designer's expectations of a diagram, run
through the real services on a throwaway database."""
