"""Signing in and out, one-time passwords, and throttling of failed sign-ins."""

from __future__ import annotations

from django.urls import reverse

from tests.factories import PASSWORD, UserFactory


def sign_in(client, username: str, password: str):
    return client.post(reverse("login"), {"username": username, "password": password})


def test_sign_in_and_out(client, db):
    UserFactory(username="ada")
    response = sign_in(client, "ada", PASSWORD)
    assert response.status_code == 302
    assert client.get(reverse("team_list")).status_code == 200
    client.post(reverse("logout"))
    assert client.get(reverse("team_list")).status_code == 302


def test_wrong_password_is_explained(client, db):
    UserFactory(username="ada")
    response = sign_in(client, "ada", "wrong")
    assert response.status_code == 200
    assert "Please enter a correct username and password" in response.content.decode()


def test_repeated_failures_are_throttled_even_with_the_right_password(client, db, settings):
    UserFactory(username="ada")
    for _ in range(settings.AXES_FAILURE_LIMIT):
        sign_in(client, "ada", "wrong")
    response = sign_in(client, "ada", PASSWORD)
    assert response.status_code == 429
    assert "Too many failed sign-ins" in response.content.decode()
    assert client.get(reverse("team_list")).status_code == 302


def test_throttling_is_per_account(client, db, settings):
    UserFactory(username="ada")
    UserFactory(username="bob")
    for _ in range(settings.AXES_FAILURE_LIMIT):
        sign_in(client, "ada", "wrong")
    assert sign_in(client, "bob", PASSWORD).status_code == 302


def test_one_time_password_must_be_replaced_before_anything_else(client, db):
    user = UserFactory(username="ada", must_change_password=True)
    sign_in(client, "ada", PASSWORD)
    response = client.get(reverse("team_list"))
    assert response.url == reverse("password_change")
    page = client.get(reverse("password_change")).content.decode()
    assert "Choose your password" in page
    response = client.post(
        reverse("password_change"),
        {"old_password": PASSWORD, "new_password1": "fresh-horse-battery-9", "new_password2": "fresh-horse-battery-9"},
    )
    assert response.url == reverse("home")
    user.refresh_from_db()
    assert not user.must_change_password
    assert user.check_password("fresh-horse-battery-9")
    assert client.get(reverse("team_list")).status_code == 200


def test_sign_out_is_possible_with_a_one_time_password(client, db):
    UserFactory(username="ada", must_change_password=True)
    sign_in(client, "ada", PASSWORD)
    assert client.post(reverse("logout")).url == reverse("login")
