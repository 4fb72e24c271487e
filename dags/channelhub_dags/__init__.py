"""Shared pieces of the channelhub DAGs: the Assets that chain them and the defaults every DAG uses.

This package sits next to the DAG files (Airflow puts the dags folder on ``sys.path``) and is listed
in ``.airflowignore`` so the DAG processor does not parse it as DAG files.
"""
