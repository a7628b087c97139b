"""How the MongoDB store recognises FerretDB, from build information and from a real FerretDB."""

from __future__ import annotations

from taskdash.store.mongo.repository import MongoRepository
from taskdash.store.mongo.server import id_filter, traits_from_build_info


def test_build_info_of_ferretdb() -> None:
    traits = traits_from_build_info({"version": "7.0.42", "ferretdbVersion": "v1.24.2", "ok": 1.0})

    assert traits.description == "FerretDB v1.24.2"
    assert traits.check_conditions_here is True


def test_build_info_of_ferretdb_2() -> None:
    traits = traits_from_build_info({"version": "7.0.77", "ferretdbVersion": "v2.1.0", "ok": 1.0})

    assert traits.description == "FerretDB v2.1.0"
    assert traits.check_conditions_here is False


def test_build_info_of_mongodb() -> None:
    traits = traits_from_build_info({"version": "7.0.14", "gitVersion": "ce59cfc", "ok": 1.0})

    assert traits.description == "MongoDB 7.0.14"
    assert traits.check_conditions_here is False


def test_id_filter_of_one_id_is_equality() -> None:
    assert id_filter(["a"]) == {"_id": "a"}
    assert id_filter(["a", "b"]) == {"_id": {"$in": ["a", "b"]}}
    assert id_filter([]) == {"_id": {"$in": []}}


async def test_ferretdb_detected_when_opened(ferretdb) -> None:  # type: ignore[no-untyped-def]
    repository = await MongoRepository.open(ferretdb.database_url("taskdash_test_server_traits"))
    try:
        assert repository._server.description.startswith("FerretDB v1.")
        assert repository._server.check_conditions_here is True
    finally:
        await repository._db.client.drop_database(repository.database_name)
        await repository.close()


async def test_override_keeps_conditions_in_filters(ferretdb) -> None:  # type: ignore[no-untyped-def]
    url = ferretdb.database_url("taskdash_test_server_override")
    repository = await MongoRepository.open(url, check_conditions_here=False)
    try:
        assert repository._server.check_conditions_here is False
    finally:
        await repository._db.client.drop_database(repository.database_name)
        await repository.close()
